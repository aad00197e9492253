"""``genzoo demo``: a local web page that samples saved models (Gradio, the optional extra
``genzoo[demo]``). :mod:`genzoo.demo.core` holds what the page shows as plain functions;
:mod:`genzoo.demo.app` the page.

The names load on first use (PEP 562), so that ``genzoo.demo.cli`` (the ``genzoo demo`` parser)
is imported without torch."""

from __future__ import annotations

import importlib

_CORE = ("SavedModel", "discover", "export_samplers", "load_model")

__all__ = ["SavedModel", "discover", "export_samplers", "load_model"]


def __getattr__(name: str):
    if name in _CORE:
        value = getattr(importlib.import_module(f"{__name__}.core"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
