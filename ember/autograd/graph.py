"""``ember.autograd.graph``: the node type users see as ``tensor.grad_fn``."""
from .function import Function as Node

__all__ = ["Node"]
