"""The ``__main__`` of an ``ember run`` script inside spawn and forkserver worker processes.

Such a child re-creates its parent's ``__main__`` before running its target, so that functions
and classes defined in the script can be unpickled there. ``ember run`` gives the script's
``__main__`` module the spec of this module; multiprocessing therefore imports this module, as
``__mp_main__``, in the child. It installs the torch alias, then runs the script's top level in
its own namespace (the ``if __name__ == "__main__":`` block is skipped, as with plain python).
The script's path comes from the environment variable EMBER_RUN_SCRIPT, which ``ember run``
sets and children inherit. Forked children need none of this: they inherit the alias."""
import os
import sys

from ember.compat import SCRIPT_ENV, compile_script, install

if SCRIPT_ENV not in os.environ:
    raise RuntimeError(f"{__name__} is the __main__ of `ember run` scripts in worker "
                       f"processes; run scripts with `ember run script.py`")
install()
__file__ = sys.argv[0] = os.environ[SCRIPT_ENV]
exec(compile_script(__file__), globals())
