"""Flatten and Unflatten."""
