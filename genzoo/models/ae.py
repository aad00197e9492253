"""AE: a deterministic convolutional autoencoder with a small latent, and what it shares with the VAE.

A plain AE has no prior to sample from. genzoo samples it by decoding codes drawn from a Gaussian
fitted to the training codes; ``prior="normal"`` decodes N(0, I) codes instead, to show the
classic failure that random codes decode to implausible images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..data import as_float
from ..space import log_uniform
from . import losses
from ._api import register_model
from ._config import LearningRate
from .base import BaseConfig, GenerativeModel, Update
from .layers import ConvDecoder, ConvEncoder


class CodeGaussian(nn.Module):
    """N(mean, L L^T) over latent codes, kept as buffers so it is saved with the weights."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("chol", torch.eye(dim))

    @torch.no_grad()
    def fit(self, codes: torch.Tensor) -> None:                            # codes: (N, d)
        codes = codes.double()
        cov = torch.cov(codes.T) + 1e-6 * torch.eye(codes.shape[1], dtype=codes.dtype, device=codes.device)
        self.mean.copy_(codes.mean(0).float())
        self.chol.copy_(torch.linalg.cholesky(cov).float())

    def transform(self, z: torch.Tensor) -> torch.Tensor:                 # N(0, I) -> N(mean, cov)
        return self.mean + z @ self.chol.T


class AutoEncoderBase(GenerativeModel):
    """Encoder / decoder pair over [0, 1] images with a Bernoulli (BCE) likelihood."""

    data_kinds = ("image",)
    family = "autoencoder"
    architecture = "conv"
    sampler_nets = ("decoder",)
    # the autoencoders' own learning-rate space (Adam, default 1e-3 in the middle of "narrow")
    sweep_space = {"wide": {"learning_rate": log_uniform("lr", low=-5, high=-2)},
                   "narrow": {"learning_rate": log_uniform("lr", low=-4, high=-2)}}

    def configure_optimizers(self):
        return {"ae": torch.optim.Adam(self.nets_.parameters(), lr=self.config.lr)}

    def updates(self) -> list[Update]:
        return [Update("ae", self.loss)]

    def loss(self, ctx, state):
        """The loss of one batch and what to log."""
        raise NotImplementedError

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic code of model-device images (the VAE returns its posterior mean)."""
        return self.nets_["encoder"](x)

    def generate(self, z, labels):
        return torch.sigmoid(self.nets_["decoder"](z))

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (N, latent_dim) of images (N, C, H, W) of the fitted shape, float32 in [0, 1] or
        uint8, on the CPU."""
        self._require_fitted("encode")
        self._check_images(x)
        with _eval(self.nets_):
            return torch.cat([self.code(self._model_input(c)).cpu() for c in x.split(1024)])

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode(encode(x)): images in [0, 1], on the CPU (``x`` as :meth:`encode` takes it)."""
        self._require_fitted("reconstruct")
        self._check_images(x)
        with _eval(self.nets_):
            return torch.cat([self.generate(self.code(self._model_input(c)), None).cpu() for c in x.split(1024)])

    def _model_input(self, x: torch.Tensor) -> torch.Tensor:
        """A chunk of stored images (uint8 or float32) on the model's device, as the networks take them."""
        return self.to_model_scale(as_float(x.to(self.device_)))

    def _require_fitted(self, what: str) -> None:
        if not self.is_fitted:
            from ..errors import NotFittedError
            raise NotFittedError(f"this {self.name} model is not fitted yet: call fit(data) before {what}()")
        if self.is_sampler_only:
            raise ValueError(f"this {self.name} was loaded from a sampler-only checkpoint (its decoder alone): "
                             f"it samples but cannot {what}; load the full checkpoint/ folder for that")

    def _check_images(self, x) -> None:
        if not isinstance(x, torch.Tensor) or tuple(x.shape[1:]) != self.shape_:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"expected images of shape (N, {', '.join(map(str, self.shape_))}), got {got}")


class _eval:
    """Context manager: eval mode inside, the previous mode restored after."""

    def __init__(self, module: nn.Module):
        self.module, self.was = module, module.training

    def __enter__(self):
        self.module.eval()

    def __exit__(self, *exc):
        self.module.train(self.was)


@dataclass(frozen=True)
class AutoencoderWidth(BaseConfig):
    """The width of the convolutional encoder and decoder (:class:`~.layers.ConvEncoder`)."""

    LIMITS: ClassVar[dict[str, str]] = {"width": ">= 1"}

    width: int = 32


@dataclass(frozen=True)
class AutoencoderConfig(LearningRate, AutoencoderWidth):
    """What the AE's and the VAE's configs share: a 16-d code, batches of 128, Adam(1e-3).
    Fields: width, then lr."""

    latent_dim: int = 16
    batch_size: int = 128
    lr: float = 1e-3


PRIORS = ("fitted", "normal")     # what the AE samples: codes from the Gaussian fitted to the training codes, or N(0, I)


@dataclass(frozen=True)
class AEConfig(AutoencoderConfig):
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"sample_prior": PRIORS}

    sample_prior: str = "fitted"   # "fitted": Gaussian fitted to training codes; "normal": N(0, I)


@register_model("ae")
class AE(AutoEncoderBase):
    paper = "Hinton & Salakhutdinov 2006"
    Config = AEConfig
    sampler_nets = ("decoder", "prior")
    PRESETS = {"default": {}, "tiny": {"latent_dim": 4, "width": 4, "max_steps": 40, "batch_size": 32}}

    def build(self, shape, num_classes):
        c = self.config
        return nn.ModuleDict({"encoder": ConvEncoder(shape[0], c.latent_dim, c.width, side=shape[-1]),
                              "decoder": ConvDecoder(c.latent_dim, shape[0], c.width, side=shape[-1]),
                              "prior": CodeGaussian(c.latent_dim)})

    def loss(self, ctx, state):
        x, _ = ctx.next_batch()                                             # (B, C, H, W) in [0, 1]
        recon = losses.bernoulli_nll(self.nets_["decoder"](self.nets_["encoder"](x)), x)
        return recon, {"recon": recon}

    @torch.no_grad()
    def on_train_end(self, data_x, data_y):
        """The code Gaussian fitted to the codes of the whole training set (``data_x`` as stored:
        uint8 or float32), converted 1,024 images at a time (no float copy of the set)."""
        self.nets_.eval()
        codes = torch.cat([self.code(self.to_model_scale(as_float(c))) for c in data_x.split(1024)])   # (N, latent)
        self.nets_["prior"].fit(codes)

    @torch.no_grad()
    def sample(self, n, labels=None, *, seed=None, prior: str | None = None):
        """As :meth:`GenerativeModel.sample`; ``prior`` ("fitted" or "normal") overrides the config's."""
        prior = self.config.sample_prior if prior is None else prior
        if prior not in PRIORS:
            raise ValueError(f"prior must be {' or '.join(map(repr, PRIORS))}, got {prior!r}")
        return self._sample(n, labels, seed, codes=self._code_map(prior))

    def _code_map(self, prior: str | None = None):
        prior = self.config.sample_prior if prior is None else prior
        return (lambda z: self.nets_["prior"].transform(z)) if prior == "fitted" else None
