"""One definition per op, bound three ways: ``ember.<name>``, ``Tensor.<name>`` and (for
``nn.functional``) imported from here.

    @public(inplace=True)
    def add(input, other, *, alpha=1, out=None): ...

publishes ``ember.add``, ``Tensor.add`` and ``Tensor.add_``. The in-place variant computes the
out-of-place result and commits it into the tensor (``ember.autograd.inplace``); an op can give
a faster in-place form with ``@public_inplace("add_")``."""
from .._tensor import Tensor

PUBLIC = {}  # name -> function, exported as ember.<name>


def public(fn=None, *, name=None, method=True, function=True, inplace=False, aliases=()):
    def deco(f):
        names = (name or f.__name__,) + tuple(aliases)
        for n in names:
            if function:
                PUBLIC[n] = f
            if method:
                setattr(Tensor, n, f)
            if inplace:
                setattr(Tensor, n + "_", _inplace_method(f, n + "_"))
        return f
    return deco(fn) if fn is not None else deco


def public_method(name):
    """Bind ``f`` as ``Tensor.<name>`` only (methods whose signature differs from the
    function's, or that have no function form)."""
    def deco(f):
        setattr(Tensor, name, f)
        return f
    return deco


def public_inplace(name, function=False):
    """Bind a hand-written in-place method ``Tensor.<name>`` (also ``ember.<name>`` if
    ``function``)."""
    def deco(f):
        setattr(Tensor, name, f)
        if function:
            PUBLIC[name] = f
        return f
    return deco


def _inplace_method(fn, name):
    from ..autograd.inplace import commit_inplace, inplace_source

    def method(self, *args, **kwargs):
        source = inplace_source(self, args, kwargs, name)
        return commit_inplace(self, fn(source, *args, **kwargs), name)
    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"In-place version of :meth:`Tensor.{fn.__name__}`."
    return method
