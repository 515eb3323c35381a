"""The ``ember`` command (also ``python -m ember``)."""
import builtins
import importlib.machinery
import importlib.util
import os
import sys
import traceback
import types

USAGE = """\
usage: ember run script.py [args ...]
       ember --version

ember run    Run an unmodified PyTorch script on ember. `import torch` gives ember, and
             torch.nn, torch.optim, torch.utils.data, ... give ember's modules; importing a
             torch module that ember does not cover fails with a clear ImportError. The script
             runs as with `python script.py`: sys.argv is [script.py, args ...], __name__ is
             "__main__", and the script's directory comes first on sys.path. DataLoader worker
             processes (fork, spawn or forkserver) see the same alias."""


def main(argv=None):
    """Entry point of the ``ember`` console script; returns the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] == "--version":
        from . import __version__
        print(f"ember {__version__}")
        return 0
    if args[0] != "run":
        print(f"ember: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    if len(args) < 2 or args[1] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if len(args) >= 2 else sys.stderr)
        return 0 if len(args) >= 2 else 2
    return run(args[1], args[2:])


def run(script, script_args):
    """Run ``script`` as ``python script args...`` would, with torch aliased to ember."""
    from .compat import SCRIPT_ENV, compile_script, install
    path = os.path.abspath(script)
    try:
        code = compile_script(path)
    except OSError as e:
        print(f"ember run: can't open file {script!r}: [Errno {e.errno}] {e.strerror}",
              file=sys.stderr)
        return 2
    except SyntaxError as e:
        traceback.print_exception(type(e), e, None)
        return 1
    install()
    os.environ[SCRIPT_ENV] = path  # for spawn / forkserver children (ember/compat/_main.py)
    sys.argv = [script, *script_args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    main_module = types.ModuleType("__main__")
    main_module.__file__ = path
    main_module.__builtins__ = builtins
    main_module.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    # how multiprocessing children find their way to a __main__ with the alias installed
    main_module.__spec__ = importlib.util.find_spec("ember.compat._main")
    sys.modules["__main__"] = main_module
    try:
        exec(code, vars(main_module))
    except Exception as e:
        _print_script_traceback(e, path)
        return 1
    return 0


def _print_script_traceback(e, path):
    """The traceback as Python prints it for a script: from the script's first frame on, and
    without the frames of the torch alias (as Python hides those of its import system)."""
    from . import compat
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    report = traceback.TracebackException(type(e), e, tb or e.__traceback__)
    pending = [report]
    while pending:
        part = pending.pop()
        part.stack = traceback.StackSummary.from_list(
            [f for f in part.stack if f.filename != compat.__file__])
        pending += [p for p in (part.__cause__, part.__context__) if p is not None]
    print("".join(report.format()), end="", file=sys.stderr)
