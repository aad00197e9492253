"""Packages whose public names load on first use (PEP 562), so that the command line's parsers,
which import ``genzoo.<package>.cli``, do not import torch, pandas or matplotlib with the package.

``install(__name__, {"score": ".score", "get_model": "genzoo.models"}, public)`` at the end of a
package's ``__init__`` gives it a module ``__getattr__`` that imports a name's module when the name
is first read (then keeps it), and a ``__dir__``. A target starting with ``.`` is a module of the
package itself. A name that is also a submodule's name (``genzoo.metrics.score``, the function,
beside ``genzoo/metrics/score.py``) stays the name: importing the submodule does not bind the module
over it, as the eager ``from .score import score`` of old made sure.
"""

from __future__ import annotations

import importlib
import sys
import types


class _LazyPackage(types.ModuleType):
    """A package module whose lazy names are not replaced by submodules of the same name."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("_lazy_names", ()):
            return
        super().__setattr__(name, value)


def install(package: str, names: dict[str, str], public: list[str], submodules: tuple[str, ...] = ()) -> None:
    """Make ``names`` (name -> module defining it) load on first use in ``package``; ``submodules``
    are modules of the package reachable as attributes without importing them first."""
    module = sys.modules[package]
    namespace = module.__dict__

    def __getattr__(name: str):
        if name in names:
            target = names[name]
            value = getattr(importlib.import_module(package + target if target.startswith(".") else target), name)
            namespace[name] = value            # once: later reads do not come here
            return value
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public) | set(submodules))

    namespace.update(__getattr__=__getattr__, __dir__=__dir__, _lazy_names=frozenset(names))
    module.__class__ = _LazyPackage
