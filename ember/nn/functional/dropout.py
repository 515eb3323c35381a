"""nn.functional: dropout."""
