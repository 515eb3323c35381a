import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# Test workers run side by side on few cores: one BLAS thread each, or OpenBLAS's spinning
# threads slow everything down many times over (child processes inherit the variables).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
import ember  # noqa: E402
import torch  # noqa: E402

ember.set_num_threads(1)
torch.set_num_threads(1)


def _has_gpu():
    try:
        import ember
        return ember.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU with CuPy (run on the device machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests that change global switches (default dtype, grad mode, anomaly) cannot leak them."""
    import ember
    from ember.autograd.grad_mode import GradMode
    from ember.autograd.anomaly import AnomalyMode
    saved = (ember.get_default_dtype(), GradMode.enabled, GradMode.inference,
             AnomalyMode.enabled)
    yield
    ember.set_default_dtype(saved[0])
    GradMode.enabled, GradMode.inference, AnomalyMode.enabled = saved[1:]


@pytest.fixture(autouse=True)
def _inputs_independent_of_test_order(request):
    """Each test draws its random inputs from tests/helpers.py's generator seeded by its own
    name, so a test sees the same data whatever ran before it (test workers split the suite
    differently from run to run)."""
    import zlib

    import numpy as np

    import helpers
    seed = zlib.crc32(request.node.nodeid.encode())
    helpers.RNG.bit_generator.state = np.random.default_rng(seed).bit_generator.state
