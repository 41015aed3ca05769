"""Names a package exports but imports only when first asked for (PEP 562).

``import sim`` must be instant (the command line sets up its Ctrl-C handling first),
statistics and reports must not load Mesa through ``sim.model``, and a local worker must
not load pyarrow through ``sim.results``: each of those packages maps its exported names
to the modules that define them, and :func:`lazy_exports` makes its ``__getattr__``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name imported from its home on first use.

    Args:
        package: The package's ``__name__``.
        homes: Each exported name and the module that defines it.

    Returns:
        A function to assign to the package's ``__getattr__``; once imported, a name is an
        ordinary attribute of the package.
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name]), name)
        namespace[name] = value
        return value

    return __getattr__
