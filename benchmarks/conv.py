"""Convolutional workloads in ember and in PyTorch, in one process, same weights and data:
conv2d forward + backward at a few typical shapes, batch norm, max pooling, and full training
steps (forward, backward, SGD update) of the classic MNIST CNN and of a small ResNet on 32x32
images.
Prints times and the ember/PyTorch ratio.

    python benchmarks/conv.py            # everything
    python benchmarks/conv.py mnist      # only the workloads whose name contains "mnist"
    OPENBLAS_NUM_THREADS=1 python benchmarks/conv.py   # one thread each (steadier when shared)

Both libraries use as many threads as ember's BLAS does.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import compare  # noqa: E402
from models import mnist_net, resnet, paired_steps  # noqa: E402

import ember  # noqa: E402
import torch  # noqa: E402

RNG = np.random.default_rng(0)


def _array(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- single layers -----------------------------------------------------------------------------

def conv_step(lib, x0, w0, b0, **kw):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    b = lib.tensor(b0, requires_grad=True)
    g = lib.tensor(_array(*lib.nn.functional.conv2d(x, w, b, **kw).shape))

    def step():
        x.grad = w.grad = b.grad = None
        lib.nn.functional.conv2d(x, w, b, **kw).backward(g)
    return step


def conv_forward(lib, x0, w0, b0, **kw):
    x, w, b = lib.tensor(x0), lib.tensor(w0), lib.tensor(b0)

    def step():
        with lib.no_grad():
            lib.nn.functional.conv2d(x, w, b, **kw)
    return step


def batch_norm_step(lib, x0):
    bn = lib.nn.BatchNorm2d(x0.shape[1])
    x = lib.tensor(x0, requires_grad=True)
    g = lib.tensor(_array(*x0.shape))

    def step():
        x.grad = bn.weight.grad = bn.bias.grad = None
        bn(x).backward(g)
    return step


def pool_step(lib, x0, *args):
    x = lib.tensor(x0, requires_grad=True)
    g = lib.tensor(_array(*lib.nn.functional.max_pool2d(x, *args).shape))

    def step():
        x.grad = None
        lib.nn.functional.max_pool2d(x, *args).backward(g)
    return step


def _models(name, build, x0, y0, loss):
    """(name, ember step, torch step): the same model, weights and data (``models``)."""
    return (name, *paired_steps(build, x0, y0, loss))


def workloads():
    convs = [  # (name, input, weight, kwargs)
        ("conv2d 32->64 3x3 on 64x32x26x26 (MNIST conv2)", (64, 32, 26, 26), (64, 32, 3, 3), {}),
        ("conv2d 1->32 3x3 on 64x1x28x28 (MNIST conv1)", (64, 1, 28, 28), (32, 1, 3, 3), {}),
        ("conv2d 16->16 3x3 pad 1 on 128x16x32x32", (128, 16, 32, 32), (16, 16, 3, 3),
         dict(padding=1)),
        ("conv2d 32->64 3x3 stride 2 on 128x32x16x16", (128, 32, 16, 16), (64, 32, 3, 3),
         dict(stride=2, padding=1)),
        ("conv2d 64->64 3x3 pad 1 on 128x64x8x8", (128, 64, 8, 8), (64, 64, 3, 3),
         dict(padding=1)),
        ("conv2d 3->16 3x3 pad 1 on 64x3x32x32 (ResNet stem)", (64, 3, 32, 32), (16, 3, 3, 3),
         dict(padding=1)),
        ("conv2d 32->32 3x3 pad 1 on 64x32x16x16 (ResNet stage 2)", (64, 32, 16, 16),
         (32, 32, 3, 3), dict(padding=1)),
        ("conv2d 16->32 1x1 stride 2 on 64x16x32x32 (ResNet shortcut)", (64, 16, 32, 32),
         (32, 16, 1, 1), dict(stride=2)),
    ]
    out = []
    for name, xs, ws, kw in convs:
        x0, w0, b0 = _array(*xs), _array(*ws) * 0.1, _array(ws[0])
        out.append(("forward " + name, conv_forward(ember, x0, w0, b0, **kw),
                    conv_forward(torch, x0, w0, b0, **kw)))
        out.append(("forward+backward " + name, conv_step(ember, x0, w0, b0, **kw),
                    conv_step(torch, x0, w0, b0, **kw)))
    for shape in ((64, 16, 32, 32), (64, 64, 8, 8)):
        x0 = _array(*shape)
        out.append((f"forward+backward batch_norm2d (training) on {'x'.join(map(str, shape))}",
                    batch_norm_step(ember, x0), batch_norm_step(torch, x0)))
    for name, xs, args in (("max_pool2d 2 on 64x64x24x24", (64, 64, 24, 24), (2,)),
                           ("max_pool2d 3 stride 2 pad 1 on 128x64x32x32", (128, 64, 32, 32),
                            (3, 2, 1))):
        x0 = _array(*xs)
        out.append(("forward+backward " + name, pool_step(ember, x0, *args),
                    pool_step(torch, x0, *args)))
    out.append(_models("MNIST CNN training step, batch 64", mnist_net, _array(64, 1, 28, 28),
                       RNG.integers(0, 10, 64), "nll_loss"))
    out.append(_models("ResNet (16/32/64, 2 blocks per stage) step, batch 64, 32x32", resnet,
                       _array(64, 3, 32, 32), RNG.integers(0, 10, 64), "cross_entropy"))
    return out


def main():
    torch.set_num_threads(ember.get_num_threads())
    chosen = [w for w in workloads() if all(a.lower() in w[0].lower() for a in sys.argv[1:])]
    print(f"threads: {torch.get_num_threads()} (ember and PyTorch)")
    compare(chosen, repeats=3, min_seconds=0.3)


if __name__ == "__main__":
    main()
