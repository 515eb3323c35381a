"""Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout."""
