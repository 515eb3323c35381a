"""Activation modules (ReLU, GELU, Softmax, ...)."""
