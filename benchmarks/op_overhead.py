"""Per-op overhead: a long chain of small elementwise ops with autograd, forward and backward,
in ember and in PyTorch. Prints the time per op and the ember/PyTorch ratio.

    python benchmarks/op_overhead.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import compare  # noqa: E402

import ember  # noqa: E402
import torch  # noqa: E402

CHAIN = 100     # links; each link is three ops: multiply by a scalar, add a tensor, tanh
OPS = 3 * CHAIN + 1


def make(lib, x0, w0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0)

    def chain():
        y = x
        for _ in range(CHAIN):
            y = (y * 0.9 + w).tanh()
        return y.sum()

    def forward_backward():
        x.grad = None
        chain().backward()

    def forward_no_grad():
        with lib.no_grad():
            chain()

    return chain, forward_backward, forward_no_grad


def main():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((16, 16)).astype(np.float32)
    w0 = rng.standard_normal((16, 16)).astype(np.float32)
    e, t = make(ember, x0, w0), make(torch, x0, w0)
    print(f"chain of {OPS} ops on 16x16 float32 tensors (times per chain)")
    rows = compare([("forward (grad recorded)", e[0], t[0]),
                    ("forward + backward", e[1], t[1]),
                    ("forward under no_grad", e[2], t[2])])
    print()
    for name, te, tt, ratio in rows:
        print(f"{name}: {te / OPS * 1e6:.2f} us/op in ember, {tt / OPS * 1e6:.2f} us/op in "
              f"PyTorch, ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
