"""Embedding and EmbeddingBag."""
