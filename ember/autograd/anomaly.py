"""Anomaly detection: remember where each op was called, and name the op and that line of user
code when its backward produces NaN."""
import os
import traceback

from .grad_mode import _ModeContext

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyMode:
    enabled = False
    check_nan = True


def is_anomaly_enabled():
    return AnomalyMode.enabled


def is_anomaly_check_nan_enabled():
    return AnomalyMode.check_nan


def creation_stack():
    """The call stack of the current op, without ember's own frames."""
    frames = traceback.extract_stack()[:-1]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]


def user_line(stack):
    """``file:line in func: code`` for the innermost user frame of ``stack``."""
    if not stack:
        return "<unknown location>"
    f = stack[-1]
    return f"{f.filename}:{f.lineno} in {f.name}: {f.line}"


class detect_anomaly(_ModeContext):
    """Records where each op ran; backward then raises at the first op whose gradient has NaN,
    naming the op and the line of user code that called it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __new__(cls, check_nan=True):
        return super().__new__(cls)

    def __enter__(self):
        self._prev_anomaly = (AnomalyMode.enabled, AnomalyMode.check_nan)
        AnomalyMode.enabled, AnomalyMode.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        AnomalyMode.enabled, AnomalyMode.check_nan = self._prev_anomaly
        return False

    def clone(self):
        return detect_anomaly(self.check_nan)


class set_detect_anomaly(detect_anomaly):
    """``set_detect_anomaly(True)`` switches at once; as a context manager it restores on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev_anomaly = (AnomalyMode.enabled, AnomalyMode.check_nan)
        self.mode, self.check_nan = mode, check_nan
        AnomalyMode.enabled, AnomalyMode.check_nan = mode, check_nan

    def __new__(cls, mode, check_nan=True):
        return object.__new__(cls)

    def __enter__(self):
        return self

    def clone(self):
        return set_detect_anomaly(self.mode, self.check_nan)
