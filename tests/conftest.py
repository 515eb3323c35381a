import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


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
