"""nn.functional: misc."""
