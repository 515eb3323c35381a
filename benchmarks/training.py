"""Training-step workloads in ember and in PyTorch, side by side in one process: the same model,
weights and data in both; one step is forward, backward and an SGD (momentum) update. Prints one
table of times and ember/PyTorch ratios.

    python benchmarks/training.py [--threads N] [name filter ...]

Targets on the CPU: MLP and transformer at most 1.0; LSTM, CNN and ResNet at most 1.5.
"""
import argparse
import os
import sys


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS / OpenMP threads for both libraries (default 1: stable timings "
                        "on a shared machine)")
    p.add_argument("filters", nargs="*", help="run only workloads whose name contains these")
    return p.parse_args()


ARGS = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import models  # noqa: E402
from _timing import compare  # noqa: E402


def workloads():
    rng = np.random.default_rng(0)
    images = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    labels = lambda n, k=10: rng.integers(0, k, n)  # noqa: E731
    return [
        ("MLP 784-512-512-10, batch 128", models.mlp, images(128, 784), labels(128),
         "cross_entropy"),
        ("MNIST CNN (2 convs, max-pool, dropout, 2 linears), batch 64", models.mnist_net,
         images(64, 1, 28, 28), labels(64), "nll_loss"),
        ("ResNet 16/32/64 (6 blocks, BatchNorm), batch 64, 32x32", models.resnet,
         images(64, 3, 32, 32), labels(64), "cross_entropy"),
        ("LSTM LM (2x256, T=35, B=32, vocab 2000)", models.lstm_lm, labels((35, 32), 2000),
         labels((35, 32), 2000), "cross_entropy"),
        ("GPT (2 layers, d=128, 4 heads, B=16, T=64)", models.gpt, labels((16, 64), 1000),
         labels((16, 64), 1000), "cross_entropy"),
    ]


def main():
    torch.set_num_threads(ARGS.threads)
    ember.set_num_threads(ARGS.threads)
    chosen = []
    for name, build, x, y, loss in workloads():
        if all(f.lower() in name.lower() for f in ARGS.filters):
            chosen.append((name, *models.paired_steps(build, x, y, loss)))
    print(f"one training step (forward, backward, SGD with momentum); {ARGS.threads} "
          f"thread(s) for both libraries")
    compare(chosen, repeats=3, min_seconds=0.3)


if __name__ == "__main__":
    main()
