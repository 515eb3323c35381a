"""The hook through which graph capture (``ember.jit``) sees every op: while a trace runs,
``active`` is an object whose ``record(function_cls, args, kwargs, outputs)`` is called after
each op's forward."""
active = None
