"""Machinery behind ``DataLoader``: collation, fetching, and the worker-process loop."""

MP_STATUS_CHECK_INTERVAL = 5.0
"""Seconds a worker waits for a request before checking that the main process is alive."""

WORKER_POLL_INTERVAL = 0.1
"""Seconds the main process waits for a batch before checking that the workers are alive (so
a crashed worker is reported within about this long instead of hanging the loop)."""

WORKER_JOIN_TIMEOUT = 1.0
"""Seconds shutdown waits for workers to exit on their own before terminating them."""

from . import collate, fetch, worker  # noqa: E402,F401
