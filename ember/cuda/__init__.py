"""``ember.cuda``: CUDA devices through CuPy (an optional extra: ``pip install 'ember[cuda]'``).

``is_available()`` and ``device_count()`` never raise; the other functions raise an ImportError
naming the extra when CuPy is missing, and a RuntimeError when it finds no GPU. Streams and
events are thin wrappers over CuPy's; memory statistics come from CuPy's memory pool."""
import contextlib

from .. import random as _random
from .._device import device as _device_cls
from .._errors import mark
from ..backend import cupy as _cupy

__all__ = ["is_available", "device_count", "current_device", "set_device", "device",
           "device_of", "synchronize", "get_device_name", "get_device_properties",
           "get_device_capability", "is_bf16_supported", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "empty_cache",
           "mem_get_info", "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
           "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
           "Stream", "Event", "current_stream", "default_stream", "stream", "is_initialized"]


def _cupy_or_none():
    try:
        return _cupy()
    except ImportError:
        return None


def device_count():
    """The number of CUDA GPUs (0 without CuPy or without a GPU)."""
    cp = _cupy_or_none()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, no device: CuPy raises CUDARuntimeError
        return 0


def is_available():
    """Whether CUDA tensors can be made: CuPy is installed and sees a GPU. Never raises."""
    return device_count() > 0


def is_initialized():
    return _cupy_or_none() is not None and is_available()


def _cp(op):
    """CuPy, checked to see a GPU (an ImportError naming the extra if it is not installed)."""
    cp = _cupy()
    if device_count() == 0:
        raise mark(RuntimeError(f"ember.cuda.{op}: no CUDA GPU is available (CuPy found no "
                                f"device); use the CPU, or check the NVIDIA driver"))
    return cp


def _index(device, op="device"):
    """A device index from None (the current device), an int, a string or a device."""
    if device is None:
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    d = _device_cls(device)
    if d.type != "cuda":
        raise mark(ValueError(f"ember.cuda.{op}: expected a CUDA device, got {d}"))
    return current_device() if d.index is None else d.index


def current_device():
    return _cp("current_device").cuda.runtime.getDevice()


def set_device(device):
    """Make ``device`` the current CUDA device (a negative index does nothing, as in
    PyTorch)."""
    i = _index(device, "set_device")
    if i >= 0:
        _cp("set_device").cuda.runtime.setDevice(i)


class device:
    """``with ember.cuda.device(1):`` makes device 1 current inside the block."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """``with ember.cuda.device_of(t):``: the device of tensor ``t`` (no-op for CPU tensors)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else None)


def synchronize(device=None):
    """Wait for all work on ``device`` (default: current) to finish."""
    cp = _cp("synchronize")
    with cp.cuda.Device(_index(device, "synchronize")):
        cp.cuda.runtime.deviceSynchronize()


class _CudaDeviceProperties:
    def __init__(self, props):
        def text(v):
            return v.decode() if isinstance(v, bytes) else str(v)
        self.name = text(props["name"])
        self.major, self.minor = props["major"], props["minor"]
        self.total_memory = props["totalGlobalMem"]
        self.multi_processor_count = props["multiProcessorCount"]
        self.is_integrated = props.get("integrated", 0)
        self.is_multi_gpu_board = props.get("isMultiGpuBoard", 0)
        self.max_threads_per_multi_processor = props.get("maxThreadsPerMultiProcessor", 0)
        self.warp_size = props.get("warpSize", 32)
        self.L2_cache_size = props.get("l2CacheSize", 0)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    cp = _cp("get_device_properties")
    return _CudaDeviceProperties(
        cp.cuda.runtime.getDeviceProperties(_index(device, "get_device_properties")))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def is_bf16_supported(including_emulation=True):
    """bfloat16 runs natively on compute capability 8.0 (Ampere) and newer."""
    return is_available() and get_device_capability()[0] >= 8


# ---- memory ------------------------------------------------------------------------------------
class _Peaks:
    """Peak pool usage per device. CuPy's pool keeps no peak, so once a peak is asked for, an
    allocator wrapping the pool records usage after each allocation (a small cost per
    allocation that programs which never ask do not pay); until then the peak is the
    current usage."""
    allocated = {}
    reserved = {}
    tracking = False

    @classmethod
    def start(cls, cp):
        if cls.tracking:
            return
        pool = cp.get_default_memory_pool()

        def malloc(size):
            mem = pool.malloc(size)
            i = mem.device_id
            cls.allocated[i] = max(cls.allocated.get(i, 0), pool.used_bytes())
            cls.reserved[i] = max(cls.reserved.get(i, 0), pool.total_bytes())
            return mem
        cp.cuda.set_allocator(malloc)
        cls.tracking = True


def _pool_bytes(device, op, total):
    cp = _cp(op)
    i = _index(device, op)
    with cp.cuda.Device(i):
        pool = cp.get_default_memory_pool()
        return i, (pool.total_bytes() if total else pool.used_bytes())


def memory_allocated(device=None):
    """Bytes held by tensors on ``device``."""
    return _pool_bytes(device, "memory_allocated", False)[1]


def memory_reserved(device=None):
    """Bytes the memory pool holds from the driver on ``device`` (used or cached)."""
    return _pool_bytes(device, "memory_reserved", True)[1]


def max_memory_allocated(device=None):
    i, now = _pool_bytes(device, "max_memory_allocated", False)
    _Peaks.start(_cupy())
    return max(_Peaks.allocated.get(i, 0), now)


def max_memory_reserved(device=None):
    i, now = _pool_bytes(device, "max_memory_reserved", True)
    _Peaks.start(_cupy())
    return max(_Peaks.reserved.get(i, 0), now)


def reset_peak_memory_stats(device=None):
    i, _ = _pool_bytes(device, "reset_peak_memory_stats", False)
    _Peaks.start(_cupy())
    _Peaks.allocated[i] = memory_allocated(i)
    _Peaks.reserved[i] = memory_reserved(i)


reset_max_memory_allocated = reset_peak_memory_stats


def empty_cache():
    """Return the pool's unused cached blocks to the driver (no-op without CuPy)."""
    cp = _cupy_or_none()
    if cp is not None and is_available():
        cp.get_default_memory_pool().free_all_blocks()


def mem_get_info(device=None):
    """(free, total) bytes of ``device``'s memory, as the driver reports them."""
    cp = _cp("mem_get_info")
    with cp.cuda.Device(_index(device, "mem_get_info")):
        return cp.cuda.runtime.memGetInfo()


# ---- random numbers ----------------------------------------------------------------------------
def __getattr__(name):
    if name == "default_generators":
        return tuple(_random.cuda_default_generator(i) for i in range(device_count()))
    raise AttributeError(f"module 'ember.cuda' has no attribute {name!r}")


def manual_seed(seed):
    """Seed the current CUDA device's generator (recorded for later if CUDA is not in use)."""
    if not is_available():
        _random.seed_cuda_all(seed)
        return
    _random.cuda_default_generator(current_device()).manual_seed(seed)


def manual_seed_all(seed):
    _random.seed_cuda_all(seed)


def seed():
    """Seed the current device's generator with a non-deterministic number."""
    if is_available():
        _random.cuda_default_generator(current_device()).seed()


def seed_all():
    _random.seed_cuda_all(_random._fresh_seed())


def initial_seed():
    return _random.cuda_default_generator(current_device()).initial_seed()


def get_rng_state(device="cuda"):
    return _random.cuda_default_generator(_index(device, "get_rng_state")).get_state()


def set_rng_state(new_state, device="cuda"):
    _random.cuda_default_generator(_index(device, "set_rng_state")).set_state(new_state)


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


# ---- streams and events ------------------------------------------------------------------------
class Stream:
    """A CUDA stream (CuPy's, in ``cuda_stream``); ``with s:`` makes it current."""

    def __init__(self, device=None, priority=0, *, _cupy_stream=None):
        cp = _cp("Stream")
        self.device = _device_cls("cuda", _index(device, "Stream"))
        if _cupy_stream is not None:
            self._stream = _cupy_stream
        else:
            with cp.cuda.Device(self.device.index):
                self._stream = cp.cuda.Stream(non_blocking=True, priority=priority)

    @property
    def cuda_stream(self):
        return self._stream.ptr

    def synchronize(self):
        self._stream.synchronize()

    def query(self):
        return self._stream.done

    def wait_event(self, event):
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self):
        return hash(self.cuda_stream)

    def __repr__(self):
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A CUDA event: ``record`` it on a stream, ``synchronize`` on it, measure
    ``start.elapsed_time(end)`` in milliseconds (needs ``enable_timing=True``)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = _cp("Event")
        self.enable_timing = enable_timing
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)

    def record(self, stream=None):
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream=None):
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        return self._event.done

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end_event):
        if not (self.enable_timing and end_event.enable_timing):
            raise mark(RuntimeError("Event.elapsed_time: both events must be created with "
                                    "enable_timing=True"))
        return _cupy().cuda.get_elapsed_time(self._event, end_event._event)

    def __repr__(self):
        return f"<ember.cuda.Event enable_timing={self.enable_timing}>"


def current_stream(device=None):
    cp = _cp("current_stream")
    with cp.cuda.Device(_index(device, "current_stream")):
        return Stream(device, _cupy_stream=cp.cuda.get_current_stream())


def default_stream(device=None):
    cp = _cp("default_stream")
    return Stream(device, _cupy_stream=cp.cuda.Stream.null)


@contextlib.contextmanager
def stream(s):
    """``with ember.cuda.stream(s):`` runs the block on stream ``s`` (None: no change)."""
    if s is None:
        yield
        return
    with s:
        yield
