"""The ``flags(...)`` context manager that sets module-level switches for a block."""
import contextlib


@contextlib.contextmanager
def scoped(module, **settings):
    saved = {name: getattr(module, name) for name in settings}
    for name, value in settings.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
