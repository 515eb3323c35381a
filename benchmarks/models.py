"""The training workloads of the benchmarks, each written once against either library
(``lib`` is ``ember`` or ``torch``), and ``paired_steps``: the same model, weights and data in
both, as two step functions (forward, backward, SGD update)."""
import numpy as np


def mlp(lib, sizes=(784, 512, 512, 10)):
    """A multilayer perceptron with ReLU."""
    nn = lib.nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mnist_net(lib):
    """The CNN of PyTorch's MNIST example."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)
    return Net()


def resnet(lib, widths=(16, 32, 64), blocks=2):
    """A small CIFAR-style ResNet: a 3x3 stem, three stages of basic blocks (the last two
    downsampling with stride 2 and a 1x1 projection), global average pooling, a linear head."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU())
            layers, cin = [], widths[0]
            for i, w in enumerate(widths):
                for j in range(blocks):
                    layers.append(Block(cin, w, 2 if i and not j else 1))
                    cin = w
            self.layers = nn.Sequential(*layers)
            self.head = nn.Linear(cin, 10)

        def forward(self, x):
            x = self.layers(self.stem(x))
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
            return self.head(x)
    return ResNet()


def lstm_lm(lib, vocab=2000, emb=128, hidden=256):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb)
            self.rnn = nn.LSTM(emb, hidden, num_layers=2)
            self.decoder = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            out, _ = self.rnn(self.embed(tokens))
            return self.decoder(out)
    return LM()


def gpt(lib, vocab=1000, d_model=128, heads=4, layers=2, context=64):
    nn = lib.nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(context, d_model)
            layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                               activation="gelu", batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

        def forward(self, tokens):
            t = tokens.shape[1]
            x = self.tok(tokens) + self.pos(lib.arange(t))
            x = self.blocks(x, mask=self.mask[:t, :t], is_causal=True)
            return self.head(self.norm(x))
    return GPT()


def paired_steps(build, inputs, targets, loss="cross_entropy", lr=0.01, momentum=0.9):
    """``(ember_step, torch_step)`` for the model ``build`` makes, with torch's initial weights
    copied into ember's; the two models are checked to compute the same loss (in eval mode,
    where dropout draws no random numbers)."""
    import ember
    import torch
    torch.manual_seed(0)
    t_model = build(torch)
    e_model = build(ember)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                             for k, v in t_model.state_dict().items()})
    first = [_loss(lib, model, inputs, targets, loss)
             for lib, model in ((ember, e_model), (torch, t_model))]
    assert abs(first[0] - first[1]) <= 1e-3 * max(1.0, abs(first[1])), (build.__name__, first)
    return [_step(lib, model, inputs, targets, loss, lr, momentum)
            for lib, model in ((ember, e_model), (torch, t_model))]


def _loss(lib, model, inputs, targets, loss):
    model.eval()
    with lib.no_grad():
        out = model(lib.tensor(np.asarray(inputs)))
        return getattr(lib.nn.functional, loss)(out.reshape(-1, out.shape[-1]),
                                                lib.tensor(np.asarray(targets)).reshape(-1)).item()


def _step(lib, model, inputs, targets, loss, lr, momentum):
    model.train()
    x, y = lib.tensor(np.asarray(inputs)), lib.tensor(np.asarray(targets))
    loss_fn = getattr(lib.nn.functional, loss)
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step():
        opt.zero_grad()
        out = model(x)
        value = loss_fn(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        value.backward()
        opt.step()
        return value.item()
    return step
