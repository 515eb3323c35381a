"""Train a convolutional network on handwritten digits, save it, reload it, evaluate again.

The data are scikit-learn's bundled 8x8 digits (1,797 real handwritten samples from 43 people),
so nothing is downloaded. The script is ordinary PyTorch code: only the import differs.

    python examples/train_digits.py [--epochs 12] [--checkpoint digits.ckpt]
"""
import argparse
import os
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits
from tqdm import tqdm

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    """The classic MNIST network (two convolutions, max-pooling, dropout, two linear layers),
    sized for 8x8 images."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def load_data(seed):
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # N x 1 x 8 x 8 in [0, 1]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    test = order[:360]
    train = order[360:]
    return (TensorDataset(torch.from_numpy(images[train]), torch.from_numpy(labels[train])),
            TensorDataset(torch.from_numpy(images[test]), torch.from_numpy(labels[test])))


@torch.no_grad()
def accuracy(model, loader):
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += (model(x).argmax(dim=1) == y).sum().item()
        total += y.numel()
    return correct / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=os.path.join(tempfile.gettempdir(),
                                                             "ember-digits.ckpt"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train_set, test_set = load_data(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=generator)
    test_loader = DataLoader(test_set, batch_size=256)

    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    print(f"training on {len(train_set)} digits, testing on {len(test_set)}")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        bar = tqdm(train_loader, desc=f"epoch {epoch:2d}/{args.epochs}", unit="batch",
                   leave=False)
        for x, y in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        scheduler.step()
        print(f"epoch {epoch:2d}: loss {loss.item():.4f}, "
              f"test accuracy {accuracy(model, test_loader):.2%}")
    elapsed = time.perf_counter() - start

    test_acc = accuracy(model, test_loader)
    torch.save(model.state_dict(), args.checkpoint)
    restored = DigitsCNN()
    restored.load_state_dict(torch.load(args.checkpoint))
    restored_acc = accuracy(restored, test_loader)
    print(f"trained in {elapsed:.1f} s; test accuracy {test_acc:.2%}")
    print(f"checkpoint {args.checkpoint} reloaded: test accuracy {restored_acc:.2%}")
    if restored_acc != test_acc:
        raise SystemExit("the reloaded model does not reproduce the trained one")


if __name__ == "__main__":
    main()
