"""Grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode.

The switches live in one class read on every op. They are process-wide rather than
thread-local (PyTorch's are thread-local): reading a class attribute is several times cheaper
than a threading.local, and ember's data-loading workers are processes, not threads."""
import functools
import inspect


class GradMode:
    enabled = True
    inference = False


def is_grad_enabled():
    return GradMode.enabled


def is_inference_mode_enabled():
    return GradMode.inference


class _ModeContext:
    """Base for the grad-mode switches: usable as ``with m():``, ``@m()`` and ``@m``."""

    def _enter_state(self):
        raise NotImplementedError

    def __enter__(self):
        self._prev = (GradMode.enabled, GradMode.inference)
        self._enter_state()
        return self

    def __exit__(self, *exc):
        GradMode.enabled, GradMode.inference = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, func):
        if inspect.isclass(func):  # `@no_grad` without parentheses on a class is a mistake
            raise TypeError(f"{type(self).__name__} decorates functions, not classes")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            gen.close()
                            raise
                        with self.clone():
                            response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_ModeContext):
    """Ops run inside record no graph: use it for inference and for parameter updates."""

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):  # bare `@no_grad`
            return self(orig_func)
        return self

    def _enter_state(self):
        GradMode.enabled = False


class enable_grad(_ModeContext):
    """Turns recording back on inside a ``no_grad`` region."""

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            return self(orig_func)
        return self

    def _enter_state(self):
        GradMode.enabled = True


class set_grad_enabled(_ModeContext):
    """``set_grad_enabled(False)`` switches at once when called, and restores the previous mode
    on exit when used as a context manager."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self._prev = (GradMode.enabled, GradMode.inference)
        GradMode.enabled = mode

    def __enter__(self):
        GradMode.enabled = self.mode
        return self

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_ModeContext):
    """Like ``no_grad`` (ember has no separate inference tensors); ``inference_mode(False)`` is a
    no-op region."""

    def __init__(self, mode=True):
        self.mode = mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):  # bare `@inference_mode`
            self.mode = True
            return self(mode)
        return self

    def _enter_state(self):
        if self.mode:
            GradMode.enabled = False
            GradMode.inference = True

    def clone(self):
        return inference_mode(self.mode)
