"""Comparisons, logical and bitwise ops, clamp, where-like selection, isclose/allclose, nan_to_num."""
