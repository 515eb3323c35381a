"""The torch alias of ``ember run``: after ``install()``, ``import torch`` gives ember.

A finder first on ``sys.meta_path`` answers every ``torch`` import. ``torch`` is the ``ember``
module itself; ``torch.X.Y`` is the first that exists of

1. ``ember.X.Y``: ember's own module (torch.nn, torch.optim.lr_scheduler, torch.utils.data,
   torch.autograd, torch.linalg, torch.cuda, torch.random, ... and whatever ember adds later:
   nothing here lists them);
2. ``ember.compat.shims.X.Y``: a small stand-in for a torch module ember has no module for
   (torch.backends, torch.accelerator, torch.version);

and otherwise the import fails with ``ModuleNotFoundError: ember run: torch.X.Y is not covered by
ember``. Private modules (``torch._C``) and ember internals whose names mean something else in
torch (``NOT_TORCH``) are never aliased. The alias modules are ember's module objects, so
``torch.nn is ember.nn`` and ``isinstance`` checks agree.

Worker processes: forked children inherit the alias. Children started by spawn or forkserver
re-create the script's ``__main__`` through ``ember.compat._main``, which installs the alias
first (see there)."""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pkgutil
import sys

SHIMS = "ember.compat.shims"
NOT_TORCH = frozenset({"ops", "backend", "compat", "cli"})
SCRIPT_ENV = "EMBER_RUN_SCRIPT"  # the script `ember run` runs, for worker processes


def _exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent is missing or is not a package
        return False


def target_of(fullname):
    """The name of the module that serves torch module ``fullname``, or None."""
    if fullname == "torch":
        return "ember"
    rest = fullname[len("torch."):]
    parts = rest.split(".")
    if parts[0] in NOT_TORCH or any(p.startswith("_") for p in parts):
        return None
    for candidate in (f"ember.{rest}", f"{SHIMS}.{rest}"):
        if _exists(candidate):
            return candidate
    return None


def covered():
    """The top-level torch modules the alias serves, for messages."""
    import ember
    from . import shims
    names = {m.name for package in (ember, shims) for m in pkgutil.iter_modules(package.__path__)
             if not m.name.startswith("_") and m.name not in NOT_TORCH}
    return sorted(f"torch.{n}" for n in names)


class _TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        name = target_of(fullname)
        if name is None:
            raise ModuleNotFoundError(
                f"ember run: {fullname} is not covered by ember. The script runs with torch "
                f"aliased to ember, which provides torch and {', '.join(covered())} (and "
                f"their submodules that ember has). Remove the import, or run the script with "
                f"PyTorch.", name=fullname)
        module = importlib.import_module(name)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__"))


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported ember module under a torch name."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # the import system set the torch spec on it


def install():
    """Make ``import torch`` give ember in this process (idempotent)."""
    if any(isinstance(f, _TorchFinder) for f in sys.meta_path):
        return
    real = sys.modules.get("torch")
    if real is not None and real.__name__ != "ember":
        raise RuntimeError("ember run: the torch alias cannot be installed because PyTorch is "
                           "already imported in this process")
    import ember
    sys.meta_path.insert(0, _TorchFinder())
    # torch makes these attributes available after a bare `import torch`
    for name in ("backends", "accelerator", "version"):
        if not hasattr(ember, name):
            setattr(ember, name, importlib.import_module(f"{SHIMS}.{name}"))


def compile_script(path):
    """The code object of the Python file ``path`` (OSError, SyntaxError as Python gives)."""
    with open(path, "rb") as f:
        source = f.read()
    return compile(source, path, "exec")
