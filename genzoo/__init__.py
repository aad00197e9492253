"""genzoo: the classic generative models, trained and scored the same way."""

__version__ = "0.1.0"

from . import data  # noqa: E402
from .errors import DivergenceError, NotFittedError, UserError  # noqa: E402
from .models import get_model, list_models, load, register_model  # noqa: E402
from .training.packed import fit_seeds  # noqa: E402

__all__ = ["__version__", "data", "fit_seeds", "get_model", "list_models", "load", "register_model",
           "DivergenceError", "NotFittedError", "UserError"]
