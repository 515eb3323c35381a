"""The README's main job runs end to end: trains, saves, reloads and reproduces its accuracy."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_train_digits_short_run(tmp_path):
    checkpoint = tmp_path / "digits.ckpt"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_digits.py"),
                          "--epochs", "3", "--checkpoint", str(checkpoint)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    trained = re.search(r"trained in [\d.]+ s; test accuracy ([\d.]+)%", run.stdout)
    reloaded = re.search(r"reloaded: test accuracy ([\d.]+)%", run.stdout)
    assert trained and reloaded, run.stdout
    assert trained.group(1) == reloaded.group(1)
    assert float(trained.group(1)) > 90.0  # three epochs already classify most digits
    assert checkpoint.exists()
