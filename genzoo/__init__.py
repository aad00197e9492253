"""genzoo: the classic generative models, trained and scored the same way.

The public API loads on first use (PEP 562), so that ``import genzoo.cli`` (and ``genzoo --help``)
does not import torch: ``genzoo.get_model`` imports :mod:`genzoo.models`, which registers every model.
"""

from __future__ import annotations

from ._lazy import install
from .errors import DivergenceError, NotFittedError, UserError

__version__ = "0.1.0"

# Public name -> the module that defines it (imported on first access)
_FROM = {"get_model": "genzoo.models", "list_models": "genzoo.models", "load": "genzoo.models",
         "register_model": "genzoo.models", "fit_seeds": "genzoo.training.packed"}
# Sub-packages and modules reachable as attributes of ``genzoo`` without importing them first
_SUBMODULES = ("bench", "cli", "data", "demo", "errors", "limits", "metrics", "models", "report", "speed", "sweep",
               "training")

__all__ = ["__version__", "data", "metrics", "fit_seeds", "get_model", "list_models", "load", "register_model",
           "DivergenceError", "NotFittedError", "UserError"]


install(__name__, _FROM, __all__, _SUBMODULES)
