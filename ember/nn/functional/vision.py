"""nn.functional: vision."""
