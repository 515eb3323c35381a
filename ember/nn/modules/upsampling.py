"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d."""
