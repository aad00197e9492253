"""``genzoo demo``: a local web page that samples saved models (Gradio, the optional extra
``genzoo[demo]``). :mod:`genzoo.demo.core` holds what the page shows as plain functions;
:mod:`genzoo.demo.app` the page."""

from .core import SavedModel, discover, export_samplers, load_model

__all__ = ["SavedModel", "discover", "export_samplers", "load_model"]
