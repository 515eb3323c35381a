"""`ember run` and the torch alias: PyTorch scripts from tests/scripts run in subprocesses."""
import json
import math
import os
import pathlib
import re
import subprocess
import sys

import pytest

import ember
from ember import cli, compat

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
EMBER = [sys.executable, "-m", "ember"]
CONSOLE_SCRIPT = pathlib.Path(sys.executable).parent / "ember"


def run(args, cwd, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != compat.SCRIPT_ENV}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def compare_scripts():
    return sorted(p.name for p in SCRIPTS.glob("*.py")
                  if p.read_text().startswith("# ember-test: compare"))


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def assert_same_output(ours, theirs, rtol=1e-4, atol=1e-6):
    """Outputs agree: text exactly (ember.X read as torch.X), numbers within tolerance."""
    ours = ours.replace("ember.", "torch.")
    assert _NUMBER.sub("#", ours) == _NUMBER.sub("#", theirs), (ours, theirs)
    for a, b in zip(_NUMBER.findall(ours), _NUMBER.findall(theirs)):
        assert math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol), (a, b, ours)


@pytest.mark.parametrize("script", compare_scripts())
def test_script_matches_pytorch(script, tmp_path):
    (tmp_path / "out_ember").mkdir()
    (tmp_path / "out_torch").mkdir()
    ours = run([*EMBER, "run", str(SCRIPTS / script), str(tmp_path / "out_ember")], tmp_path)
    assert ours.returncode == 0, ours.stderr
    theirs = run([sys.executable, str(SCRIPTS / script), str(tmp_path / "out_torch")], tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert_same_output(ours.stdout, theirs.stdout)


def test_compare_scripts_are_found():
    assert {"poly_fit.py", "checkpoint.py", "dataloader_workers.py"} <= set(compare_scripts())


@pytest.mark.parametrize("launcher", ["module", "console_script"])
def test_script_environment(launcher, tmp_path):
    """sys.argv, __name__, __file__ and sys.path[0] as `python script.py` sets them."""
    command = EMBER if launcher == "module" else [str(CONSOLE_SCRIPT)]
    script = os.path.relpath(SCRIPTS / "argv_check.py", tmp_path)  # argv[0] stays as given
    result = run([*command, "run", script, "--lr", "0.1", "-h"], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["name"] == "__main__"
    assert report["file"] == str(SCRIPTS / "argv_check.py")
    assert report["argv"] == [script, "--lr", "0.1", "-h"]
    assert report["path0"] == str(SCRIPTS)
    assert report["torch"] == "ember" and report["nn_is_ember"]
    assert report["version"] == ember.__version__ and report["version_cuda"] is None
    assert report["cudnn_benchmark"] is True and report["mps"] is False
    gpu = ember.cuda.is_available()
    assert report["cuda"] is gpu and report["accelerator"] is gpu
    assert report["current_accelerator"] == ("cuda" if gpu else "None")


def test_uncovered_module_fails_clearly(tmp_path):
    result = run([*EMBER, "run", str(SCRIPTS / "uncovered_import.py")], tmp_path)
    assert result.returncode == 1
    assert "before the import: ember" in result.stdout and "not reached" not in result.stdout
    assert "ModuleNotFoundError: ember run: torch.distributions is not covered by ember" \
        in result.stderr
    assert "torch.nn" in result.stderr and "run the script with PyTorch" in result.stderr
    assert "ember/compat" not in result.stderr and "ember/cli.py" not in result.stderr


def test_worker_processes_see_the_alias(tmp_path):
    result = run([*EMBER, "run", str(SCRIPTS / "worker_processes.py")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [f"{m} ember ember 42"
                                             for m in ("fork", "spawn", "forkserver")]


def test_script_errors_and_exit_codes(tmp_path):
    (tmp_path / "fails.py").write_text("def f():\n    raise ValueError('boom')\nf()\n")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    fails = run([*EMBER, "run", "fails.py"], tmp_path)
    assert fails.returncode == 1 and "ValueError: boom" in fails.stderr
    assert fails.stderr.startswith("Traceback (most recent call last):\n  File "
                                   f"\"{tmp_path / 'fails.py'}\", line 3")
    assert run([*EMBER, "run", "exits.py"], tmp_path).returncode == 3


def test_command_line_errors(tmp_path, capsys, monkeypatch):
    """Cases that stop before the script runs, checked in this process."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "syntax.py").write_text("x = (\n")
    assert cli.main(["run", "syntax.py"]) == 1
    assert "SyntaxError" in capsys.readouterr().err
    assert cli.main(["run", "missing.py"]) == 2
    assert "can't open file 'missing.py': [Errno 2]" in capsys.readouterr().err
    assert cli.main([]) == 2 and "usage: ember run script.py" in capsys.readouterr().err
    assert cli.main(["run"]) == 2 and "usage: ember run script.py" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0 and "usage:" in capsys.readouterr().out
    assert cli.main(["train"]) == 2 and "unknown command 'train'" in capsys.readouterr().err
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ember {ember.__version__}"


@pytest.mark.parametrize("name, target", [
    ("torch", "ember"),
    ("torch.nn", "ember.nn"),
    ("torch.nn.functional", "ember.nn.functional"),
    ("torch.utils.data", "ember.utils.data"),
    ("torch.return_types", "ember.return_types"),  # any ember module, with no list to update
    ("torch.backends.cudnn", "ember.compat.shims.backends.cudnn"),
    ("torch.accelerator", "ember.compat.shims.accelerator"),
    ("torch.version", "ember.compat.shims.version"),
    ("torch.distributions", None),
    ("torch._C", None),
    ("torch.nn._private", None),
    ("torch.ops", None),  # ember.ops exists but is not what torch.ops means
    ("torch.linalg.missing", None),
])
def test_alias_targets(name, target):
    assert compat.target_of(name) == target


def test_backend_shims_keep_settings():
    from ember.compat.shims.backends import cuda, cudnn, mkldnn, mps
    assert not cudnn.is_available() and cudnn.version() is None and not mps.is_available()
    with cudnn.flags(enabled=False, deterministic=True):
        assert cudnn.enabled is False and cudnn.deterministic is True
    assert cudnn.enabled is True and cudnn.deterministic is False
    with mkldnn.flags(enabled=False):
        assert mkldnn.enabled is False
    assert mkldnn.enabled is True and not mkldnn.is_available()
    cuda.enable_flash_sdp(False)
    assert cuda.flash_sdp_enabled() is False and cuda.math_sdp_enabled() is True
    cuda.enable_flash_sdp(True)
    cuda.matmul.allow_tf32 = True
    assert cuda.matmul.allow_tf32 is True
    cuda.matmul.allow_tf32 = False
