"""detect_anomaly names the op and the line of user code whose backward produced NaN."""
import numpy as np
import pytest

import ember


def test_detect_anomaly_names_op_and_line():
    x = ember.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.log()  # log(0) = -inf; its gradient 1/0 times 0 below is nan
        z = (y * 0).sum()
        with pytest.raises(RuntimeError) as info:
            z.backward()
    message = str(info.value)
    assert "nan" in message
    assert "test_anomaly.py" in message
    assert "y * 0" in message or "x.log()" in message


def test_no_anomaly_no_error():
    x = ember.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with ember.autograd.detect_anomaly():
        (x.log() * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])


def test_set_detect_anomaly_switch():
    ember.autograd.set_detect_anomaly(True)
    try:
        assert ember.autograd.is_anomaly_enabled()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not ember.autograd.is_anomaly_enabled()
