# ember-test: compare
"""Fits a cubic polynomial to sin(x) by gradient descent, with tensors and autograd only."""
import math

import torch

x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
coeffs = [torch.zeros((), requires_grad=True) for _ in range(4)]
learning_rate = 1e-3
for step in range(1, 501):
    a, b, c, d = coeffs
    pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (pred - y).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        for p in coeffs:
            p -= learning_rate * p.grad
            p.grad = None
    if step % 100 == 0:
        print(f"step {step} loss {loss.item():.6f}")
print("result:", " ".join(f"{p.item():+.5f}" for p in coeffs))
