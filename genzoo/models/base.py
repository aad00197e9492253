"""What every genzoo model shares: config handling, the fit / sample contract, save / load.

Models follow scikit-learn's estimator contract: ``__init__`` only stores the config, ``fit``
returns ``self``, fitted state ends in ``_``. The training loop lives in :mod:`genzoo.training`;
a model contributes ``build``, ``configure_optimizers`` and ``training_step``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..data import Dataset
from ..errors import NotFittedError


@dataclass(frozen=True)
class BaseConfig:
    """Training settings shared by every family; each family's config extends it."""

    epochs: float = 20.0            # passes over the training data
    max_steps: int | None = None    # if set, stops after this many optimizer steps (overrides epochs)
    batch_size: int = 64
    latent_dim: int = 100


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available on this machine")
    return dev


class GenerativeModel:
    """Base class of the six families. Subclasses set ``Config``, ``PRESETS`` and ``data_kinds``."""

    name: ClassVar[str]
    Config: ClassVar[type[BaseConfig]] = BaseConfig
    PRESETS: ClassVar[dict[str, dict]] = {"default": {}}
    data_kinds: ClassVar[tuple[str, ...]] = ("image",)
    conditional: ClassVar[bool] = False
    batches_per_step: ClassVar[int] = 1     # real batches one training_step draws (WGAN: n_critic)

    def __init__(self, config: BaseConfig | None = None, **overrides):
        config = self.Config() if config is None else config
        if not isinstance(config, self.Config):
            raise ValueError(f"{type(self).__name__} takes a {self.Config.__name__}, got {type(config).__name__}")
        self.config = self._replace(config, overrides)

    # --- configuration -----------------------------------------------------------------
    @classmethod
    def _replace(cls, config: BaseConfig, overrides: dict) -> BaseConfig:
        valid = [f.name for f in dataclasses.fields(cls.Config)]
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ValueError(f"unknown config key(s) {unknown} for {cls.name!r}; valid keys: {valid}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        return dataclasses.replace(config, **fixed)

    @classmethod
    def from_preset(cls, preset: str = "default", **overrides) -> "GenerativeModel":
        if preset not in cls.PRESETS:
            raise ValueError(f"unknown preset {preset!r} for {cls.name!r}; choose one of {list(cls.PRESETS)}")
        return cls(cls._replace(cls.Config(), cls.PRESETS[preset]), **overrides)

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"{type(self).__name__}({self.config}) [{state}]"

    # --- what a family implements ------------------------------------------------------------
    def build(self, shape: tuple[int, ...], num_classes: int) -> nn.ModuleDict:
        """The networks for items of ``shape``; called under a seeded RNG."""
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def training_step(self, ctx) -> dict[str, torch.Tensor]:
        """One optimizer step on batches from ``ctx``; returns detached scalar losses/diagnostics."""
        raise NotImplementedError

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Decode latent codes ``z`` (on the model's device) into data space (model scale)."""
        raise NotImplementedError

    def on_train_end(self, data_x: torch.Tensor, data_y: torch.Tensor) -> None:
        """Hook after the last step (the AE fits its code Gaussian here)."""

    # --- data scaling: images live in [-1, 1] inside GANs, [0, 1] in AE / VAE -----------------
    def to_model_scale(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def to_data_scale(self, x: torch.Tensor) -> torch.Tensor:
        return x

    # --- the public contract ------------------------------------------------------------------
    def supports(self, data: Dataset) -> bool:
        return self.unsupported_reason(data) is None

    def unsupported_reason(self, data: Dataset) -> str | None:
        if data.kind not in self.data_kinds:
            return (f"{self.name} fits {' and '.join(self.data_kinds)} data only; "
                    f"{data.name!r} holds {data.kind} of shape {data.shape}")
        if data.kind == "image" and data.shape[1:] != (28, 28):
            return f"{self.name} fits 28x28 images; {data.name!r} holds images of shape {data.shape}"
        return None

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "nets_")

    def fit(self, data: Dataset, *, seed: int = 0, device: str | torch.device = "auto", callbacks=()):
        from ..training import fit_model

        if not isinstance(data, Dataset):
            raise ValueError(f"fit takes a genzoo.data.Dataset, got {type(data).__name__}")
        reason = self.unsupported_reason(data)
        if reason:
            raise ValueError(reason)
        dev = resolve_device(device)
        self._setup(data.shape, data.num_classes, seed, dev, data_name=data.name)
        fit_model(self, data, seed=seed, device=dev, callbacks=callbacks)
        return self

    def _setup(self, shape, num_classes, seed, device, data_name=""):
        """Fresh networks for this data (seeded), replacing any fitted state."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            nets = self.build(tuple(shape), num_classes)
        self.nets_ = nets.to(device)
        self.shape_, self.num_classes_, self.seed_ = tuple(shape), num_classes, seed
        self.data_name_ = data_name
        self.device_ = device
        self.history_ = []
        self._sample_rng = torch.Generator().manual_seed(seed + 1)

    def _check_labels(self, n: int, labels) -> torch.Tensor | None:
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{self.name} is unconditional: it takes no labels (got labels)")
            return None
        k = self.num_classes_
        if labels is None:
            return torch.arange(n) % k  # balanced classes
        if not isinstance(labels, torch.Tensor) or labels.dtype != torch.long:
            raise ValueError("labels must be a LongTensor of shape (n,)")
        if tuple(labels.shape) != (n,):
            raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
        if n and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"labels must lie in 0..{k - 1}, got values in {labels.min().item()}..{labels.max().item()}")
        return labels

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | None = None, *, seed: int | None = None) -> torch.Tensor:
        """``n`` samples as a float32 CPU tensor: images (n, C, H, W) in [0, 1] or points (n, D).

        The same seed gives the same samples; ``seed=None`` continues a stream seeded by ``fit``.
        """
        return self._sample(n, labels, seed)

    def _sample(self, n, labels, seed, codes=None) -> torch.Tensor:
        """:meth:`sample`, with ``codes`` (a function on model-device tensors) mapping the N(0, I)
        noise to the codes that are decoded (the AE's fitted prior)."""
        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet: call fit(data) before sample()")
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        labels = self._check_labels(n, labels)
        gen = self._sample_rng if seed is None else torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.config.latent_dim, generator=gen)  # drawn on CPU: same on every device
        return self._decode_eval(z, labels, codes=codes)

    def _decode_eval(self, z: torch.Tensor, labels: torch.Tensor | None, chunk: int = 1024,
                     codes=None) -> torch.Tensor:
        was_training = self.nets_.training
        self.nets_.eval()
        try:
            out = []
            for i in range(0, max(len(z), 1), chunk):
                zi = z[i:i + chunk].to(self.device_)
                if codes is not None:
                    zi = codes(zi)
                li = None if labels is None else labels[i:i + chunk].to(self.device_)
                out.append(self.to_data_scale(self.generate(zi, li)).float().cpu())
            return torch.cat(out)[: len(z)]
        finally:
            self.nets_.train(was_training)

    # --- persistence (diffusers-style) ------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (weights only, never pickles)."""
        from .. import __version__

        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet: nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "class": type(self).__name__, "model": self.name, "genzoo_version": __version__,
            "config": dataclasses.asdict(self.config),
            "fitted": {"shape": list(self.shape_), "num_classes": self.num_classes_, "seed": self.seed_,
                       "data": self.data_name_},
        }
        state = {k: v.detach().cpu().contiguous() for k, v in self.nets_.state_dict().items()}
        _atomic_write(directory / "model.safetensors", lambda p: save_file(state, str(p)))
        _atomic_write(directory / "config.json", lambda p: p.write_text(json.dumps(meta, indent=2)))
        return directory

    @classmethod
    def _from_pretrained(cls, directory: Path, meta: dict) -> "GenerativeModel":
        model = cls(cls._replace(cls.Config(), meta["config"]))
        fitted = meta["fitted"]
        model._setup(fitted["shape"], fitted["num_classes"], fitted["seed"], torch.device("cpu"), fitted["data"])
        model.nets_.load_state_dict(load_file(str(directory / "model.safetensors")))
        return model

    def to(self, device) -> "GenerativeModel":
        """Move a fitted model's networks to ``device``."""
        self.device_ = resolve_device(device)
        self.nets_.to(self.device_)
        return self


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
