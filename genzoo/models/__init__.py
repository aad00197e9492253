"""The models, one file each: every public module of this package is imported here, so that a
model file registers itself (``@register_model``) just by being in the package. Adding a model is
adding one file; nothing else is edited. A model of another installed package joins through the
``genzoo.models`` entry points (:mod:`genzoo.models._api`), loaded on the first read of the registry."""

import importlib
import pkgutil

from ._api import get_model, get_model_class, list_families, list_models, load, load_plugins, register_model
from .base import BaseConfig, GenerativeModel, Update

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_mod}")

from .ae import AE  # noqa: E402
from .cgan import CGAN  # noqa: E402
from .dcgan import DCGAN  # noqa: E402
from .gan import GAN  # noqa: E402
from .vae import VAE  # noqa: E402
from .wgan import WGAN  # noqa: E402

__all__ = ["get_model", "get_model_class", "list_families", "list_models", "load", "load_plugins", "register_model",
           "BaseConfig", "GenerativeModel", "Update", "AE", "VAE", "GAN", "DCGAN", "WGAN", "CGAN"]
