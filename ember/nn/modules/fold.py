"""Fold and Unfold."""
