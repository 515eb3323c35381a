"""Identity, Linear, Bilinear."""
