"""Activation functions' primitives: relu, sigmoid, gelu, silu, elu, softplus, softmax, log_softmax, ..."""
