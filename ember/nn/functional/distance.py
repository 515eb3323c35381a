"""nn.functional: distance."""
