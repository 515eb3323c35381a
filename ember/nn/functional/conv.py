"""nn.functional: conv."""
