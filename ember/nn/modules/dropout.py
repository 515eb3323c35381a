"""Dropout modules: Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout (active in
training mode only)."""
from ..functional.dropout import (_check_p, dropout, dropout1d, dropout2d, dropout3d,
                                  alpha_dropout, feature_alpha_dropout)
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    __constants__ = ["p", "inplace"]
    fn = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    fn = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    fn = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    fn = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    fn = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    fn = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    fn = staticmethod(feature_alpha_dropout)
