"""nn.functional: sparse."""
