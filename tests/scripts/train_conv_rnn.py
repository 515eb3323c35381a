# ember-test: compare
"""A PyTorch script training a small CNN (Conv2d, BatchNorm2d, MaxPool2d, AdaptiveAvgPool2d)
and a GRU/LSTM sequence model with Adam and a OneCycle schedule. Deterministic: weights and
data come from linspace/sin/cos, the loaders do not shuffle."""
import sys

import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def deterministic_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            values = torch.linspace(-1.0, 1.0, p.numel()).reshape(p.shape)
            p.copy_((values * (i + 1.3)).sin() * (0.3 if "weight" in name else 0.05))


class SmallCNN(nn.Module):
    # No bias before BatchNorm: its gradient is zero up to rounding, and Adam would turn that
    # rounding noise into full-size steps that differ between any two implementations.
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, stride=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class SequenceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.gru = nn.GRU(8, 12, batch_first=True)
        self.lstm = nn.LSTM(12, 12, num_layers=2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(24, 10)

    def forward(self, tokens):
        h, _ = self.gru(self.embed(tokens))
        h, _ = self.lstm(h)
        return self.out(h)


def train(model, loader, loss_of, epochs, name):
    deterministic_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.02,
                                                    total_steps=epochs * len(loader))
    for epoch in range(epochs):
        total = 0.0
        for batch in loader:
            optimizer.zero_grad()
            loss = loss_of(model, *batch)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        print(f"{name} epoch {epoch} loss {total / len(loader):.6f}")


def main():
    grid = torch.linspace(0, 3.0, 64)
    images = (grid.reshape(1, 8, 8) * torch.arange(1, 49).reshape(48, 1, 1) / 7).sin()
    images = images.unsqueeze(1)
    labels = torch.arange(48) % 3
    cnn = SmallCNN()
    train(cnn, DataLoader(TensorDataset(images, labels), batch_size=12),
          lambda m, x, y: F.cross_entropy(m(x), y), 3, "cnn")
    cnn.eval()
    with torch.no_grad():
        print(f"cnn eval logits sum {cnn(images).sum().item():.5f}")
        print(f"running mean {cnn.features[1].running_mean.sum().item():.5f}")

    tokens = (torch.arange(40 * 7).reshape(40, 7) * 3 % 10).long()
    targets = tokens.roll(1, dims=1)
    seq = SequenceModel()
    train(seq, DataLoader(TensorDataset(tokens, targets), batch_size=8),
          lambda m, x, y: F.cross_entropy(m(x).reshape(-1, 10), y.reshape(-1)), 3, "seq")


if __name__ == "__main__":
    main()
