"""Model families, one file each; importing this package registers them in this order."""

from ._api import get_model, get_model_class, list_models, load, register_model
from .base import BaseConfig, GenerativeModel
from .ae import AE  # noqa: E402  (registration order is list_models() order)
from .vae import VAE
from .gan import GAN
from .dcgan import DCGAN
from .wgan import WGAN
from .cgan import CGAN

__all__ = ["get_model", "get_model_class", "list_models", "load", "register_model", "BaseConfig",
           "GenerativeModel", "AE", "VAE", "GAN", "DCGAN", "WGAN", "CGAN"]
