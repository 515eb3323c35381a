"""Imports a torch module that ember does not cover: must fail with a clear ImportError."""
import torch

print("before the import:", torch.__name__)
import torch.distributions  # noqa: E402,F401

print("not reached")
