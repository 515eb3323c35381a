# ember-test: compare
"""A complete PyTorch training script: an MLP classifier trained with nn, optim, a learning-rate
schedule and a DataLoader, then checkpointed and reloaded. Deterministic: weights and data are
built from linspace/sin, and the loader does not shuffle."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.GELU())
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.body(x))


def deterministic_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.6, 0.6, p.numel()).reshape(p.shape).sin() * (0.5 + i / 10))


def main(scratch):
    t = torch.linspace(0, 6.28, 240)
    x = torch.stack([t.cos() * (1 + t / 6), t.sin() * (1 + t / 6)], dim=1)
    y = (torch.arange(240) % 3).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=24, shuffle=False)

    model = MLP()
    deterministic_init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    for epoch in range(6):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total += loss.item()
        scheduler.step()
        print(f"epoch {epoch} loss {total / len(loader):.6f} lr {scheduler.get_last_lr()[0]:.6f}")

    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    print(f"accuracy {accuracy:.6f}")
    path = os.path.join(scratch, "mlp.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    restored = MLP()
    checkpoint = torch.load(path)
    restored.load_state_dict(checkpoint["model"])
    with torch.no_grad():
        print(f"reloaded logits sum {restored(x).sum().item():.6f}")
    print(f"optimizer state entries {len(checkpoint['optimizer']['state'])}")


if __name__ == "__main__":
    main(sys.argv[1])
