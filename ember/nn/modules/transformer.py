"""Transformer, TransformerEncoder/Decoder and their layers."""
