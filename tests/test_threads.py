"""ember.set_num_threads / get_num_threads, and the one-thread default."""
import os
import subprocess
import sys

import pytest

import ember


def test_set_and_get_num_threads():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        assert ember.get_num_threads() == 2
        assert os.environ["OPENBLAS_NUM_THREADS"] == "2"  # inherited by worker processes
    finally:
        ember.set_num_threads(before)
    with pytest.raises(ValueError, match="positive integer"):
        ember.set_num_threads(0)


def _threads_in_fresh_process(code, env_threads):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if env_threads:
        env["OPENBLAS_NUM_THREADS"] = env_threads
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip())


def test_default_is_one_thread_unless_the_environment_says_otherwise():
    assert _threads_in_fresh_process("import ember; print(ember.get_num_threads())", None) == 1
    assert _threads_in_fresh_process(
        "import numpy, ember; print(ember.get_num_threads())", None) == 1
    assert _threads_in_fresh_process("import ember; print(ember.get_num_threads())", "2") == 2
