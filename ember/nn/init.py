"""nn.init: parameter initialization schemes."""
