"""PixelShuffle and PixelUnshuffle."""
