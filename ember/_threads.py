"""``set_num_threads`` / ``get_num_threads``: the threads ember's CPU math (the BLAS behind
NumPy) uses.

ember uses one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS say
otherwise: OpenBLAS's threads spin while they wait, so as soon as another process competes for
the cores (a data-loading worker, a second job, parallel tests) a two-thread product can run
ten times slower than a one-thread one (measured here: 3 epochs of the digits CNN in 1.0 s with
one thread, 12.8 s with two on a 2-core machine with one other busy process). Large products on
an idle machine gain from more threads: ``ember.set_num_threads(n)``."""
import os

from .ops._registry import PUBLIC

_limiter = None


def _threadpoolctl(op):
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError(f"{op}: controlling BLAS threads needs threadpoolctl: "
                          f"pip install threadpoolctl") from None
    return threadpoolctl


def set_num_threads(num):
    """Use ``num`` threads for the BLAS behind NumPy (and for processes started later)."""
    global _limiter
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {num!r}")
    _limiter = _threadpoolctl("set_num_threads").threadpool_limits(limits=num, user_api="blas")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(num)


def blas_threads_adjustable():
    """Whether threadpoolctl is there to change the BLAS threads at run time."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


def get_num_threads():
    """The threads of the BLAS behind NumPy."""
    import numpy  # noqa: F401  (its BLAS must be loaded to be inspected)
    info = [p for p in _threadpoolctl("get_num_threads").threadpool_info()
            if p.get("user_api") == "blas"]
    return info[0]["num_threads"] if info else 1


PUBLIC.update(set_num_threads=set_num_threads, get_num_threads=get_num_threads)
