"""``genzoo demo``: a local web page that samples saved models (Gradio, the optional extra
``genzoo[demo]``). :mod:`genzoo.demo.core` holds what the page shows as plain functions;
:mod:`genzoo.demo.app` the page.

The names load on first use (PEP 562), so that ``genzoo.demo.cli`` (the ``genzoo demo`` parser)
is imported without torch."""

from __future__ import annotations

from .._lazy import install

_CORE = ("SavedModel", "discover", "export_samplers", "load_model")

__all__ = ["SavedModel", "discover", "export_samplers", "load_model"]


install(__name__, {name: ".core" for name in _CORE}, __all__)
