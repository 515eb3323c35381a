"""Collects the public classes of the layer modules, so each family module only has to define
``__all__``."""
import sys


def exported(package=__package__):
    names = {}
    prefix = package + "."
    for name, module in list(sys.modules.items()):
        if name.startswith(prefix) and not name.rsplit(".", 1)[1].startswith("_"):
            for attr in getattr(module, "__all__", ()):
                names[attr] = getattr(module, attr)
    return names
