"""Recurrent and attention models: one training step (forward, backward, SGD update) in ember
and in PyTorch, in one process, with the same weights and data.

- lstm_lm: embedding -> 2-layer LSTM -> linear decoder -> cross-entropy (a word-level language
  model, PTB-small sizes with a smaller vocabulary so the recurrence dominates);
- gpt: a small GPT-style decoder (token + position embeddings, pre-norm TransformerEncoder
  layers with a causal mask, GELU, final LayerNorm, tied-size output head).

Prints the best time for each library and the ratio ember / PyTorch (see ``_timing``: the
libraries alternate, and the ratio is what to read on a shared machine).

    python benchmarks/rnn_attention.py [--threads N] [--only lstm_lm|gpt]
"""
import argparse
import os
import sys


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS / OpenMP threads for both libraries (default 1: stable timings)")
    p.add_argument("--only", choices=["lstm_lm", "gpt"])
    return p.parse_args()


ARGS = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _timing import compare  # noqa: E402
from models import lstm_lm, gpt, paired_steps  # noqa: E402

torch.set_num_threads(ARGS.threads)
ember.set_num_threads(ARGS.threads)


def workload(name, build, tokens, targets):
    """(name, ember step, torch step): the same model, weights and data; plain SGD."""
    return (name, *paired_steps(build, tokens, targets, lr=0.1, momentum=0.0))


def main():
    rng = np.random.default_rng(0)
    print(f"one training step (forward, backward, SGD), {ARGS.threads} thread(s)")
    workloads = []
    if ARGS.only in (None, "lstm_lm"):
        seq, batch, vocab = 35, 32, 2000
        workloads.append(workload("lstm_lm (T=35, B=32, 2x256)", lstm_lm,
                                  rng.integers(0, vocab, (seq, batch)),
                                  rng.integers(0, vocab, (seq, batch))))
    if ARGS.only in (None, "gpt"):
        batch, seq, vocab = 16, 64, 1000
        workloads.append(workload("gpt (B=16, T=64, 2x128, 4 heads)", gpt,
                                  rng.integers(0, vocab, (batch, seq)),
                                  rng.integers(0, vocab, (batch, seq))))
    compare(workloads, repeats=5, min_seconds=0.5)


if __name__ == "__main__":
    main()
