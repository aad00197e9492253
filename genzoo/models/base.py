"""What every genzoo model shares: config handling, the fit / sample contract, save / load.

Models follow scikit-learn's estimator contract: ``__init__`` only stores the config, ``fit``
returns ``self``, fitted state ends in ``_`` and appears only when ``fit`` succeeds (a fit that
fails or diverges leaves the model as it was).

A model is its networks and its losses. A family contributes ``build`` (the networks),
``configure_optimizers`` and ``updates``: the optimizer updates of one training step, each an
:class:`Update` naming its optimizer and a loss function of the step's batches. The training
loop (:mod:`genzoo.training`) owns everything else: the schedule, ``zero_grad`` / ``backward`` /
``step``, seeding, the divergence check, logging and the history.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes
from torch import nn

from .._io import sweep_stale_tmp, write_bytes, write_text
from ..data import Dataset
from ..errors import CheckpointError, NotFittedError
from ..limits import MAX_BATCH_SIZE, MAX_SAMPLE_SEED, check_seed
from ..training import Update, check_log_interval, compile_spec, fit_model, resolve_device  # the loop, below the models
from . import _checks, _checkpoint, _shapes


WEIGHTS = "model.safetensors"        # the weights file of a model folder, beside config.json


@dataclass(frozen=True)
class BaseConfig:
    """Training settings shared by every family; each family's config extends it.

    ``__post_init__`` checks every field against its annotation (``int``, ``float``, ``str``,
    ``bool``, ``tuple[int, ...]``, ``X | None``) and against the ranges that ``LIMITS`` declares
    (merged along the MRO; for a tuple the range applies to every entry), ``CHOICES`` (allowed
    strings) and ``MIN_LENGTHS`` (a variadic tuple field, such as the hidden-layer sizes, must hold
    at least one entry unless ``MIN_LENGTHS`` declares another minimum). A bad value raises
    ValueError naming the model, the field and the value. An int given for a float field is stored
    as a float, a list for a tuple field as a tuple. Subclasses that define their own
    ``__post_init__`` must call ``super().__post_init__()``.
    """

    # range of each numeric field: "> 0", ">= 1", "<= x", "< x", or an interval "[0, 1)", "(0, 1]"
    LIMITS: ClassVar[dict[str, str]] = {"epochs": "> 0", "max_steps": ">= 1", "batch_size": f"[1, {MAX_BATCH_SIZE}]",
                                        "latent_dim": ">= 1"}
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}
    MIN_LENGTHS: ClassVar[dict[str, int]] = {}   # entries a variadic tuple field needs (default 1)
    model_name: ClassVar[str] = ""  # set by register_model; prefixes the validation messages

    epochs: float = 20.0            # passes over the training data
    max_steps: int | None = None    # if set, stops after this many optimizer steps (overrides epochs)
    batch_size: int = 64
    latent_dim: int = 100

    def __post_init__(self):
        who = type(self).model_name or type(self).__name__
        schema = _config_schema(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            try:
                fixed = _coerce(value, schema[f.name][0])
            except _Mismatch as exc:
                raise ValueError(f"{who}: {f.name} must be {exc}, got {value!r} ({type(value).__name__})") from None
            if fixed is not value:
                object.__setattr__(self, f.name, fixed)
            _check_field(who, f.name, fixed, *schema[f.name][1:])


def _check_field(who: str, name: str, value, limit, choices, min_len) -> None:
    """ValueError when a (coerced) config value is out of its declared range, choices or length."""
    if value is None:
        return
    if min_len and isinstance(value, tuple) and len(value) < min_len:
        raise ValueError(f"{who}: {name} must hold at least {min_len} {'entry' if min_len == 1 else 'entries'}, "
                         f"got {_show(value)}")
    if limit is not None:
        items = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(v, numbers.Real) and limit[0](v) for v in items):
            what = f"{name} entries" if isinstance(value, tuple) else name
            raise ValueError(f"{who}: {what} must be {limit[1]}, got {_show(value)}")
    if choices is not None and value not in choices:
        raise ValueError(f"{who}: {name} must be {' or '.join(map(repr, choices))}, got {value!r}")


class _Mismatch(Exception):
    """A value does not fit a type annotation; the message says what was expected."""


_SCHEMAS: dict[type, dict[str, tuple]] = {}
_BOUND = re.compile(r"^\s*(>=|>|<=|<)\s*(\S+)\s*$")
_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])\s*$")
_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _show(value) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def _parse_limit(cls: type, name: str, text: str):
    """``(predicate, text)`` for one LIMITS entry."""
    m = _BOUND.match(text)
    try:
        if m:
            op, bound = _OPS[m.group(1)], float(m.group(2))
            return (lambda v: op(v, bound)), text.strip()
        m = _INTERVAL.match(text)
        if m:
            lo, hi = float(m.group(2)), float(m.group(3))
            lo_op, hi_op = _OPS[">=" if m.group(1) == "[" else ">"], _OPS["<=" if m.group(4) == "]" else "<"]
            return (lambda v: lo_op(v, lo) and hi_op(v, hi)), f"in {text.strip()}"
    except ValueError:
        pass
    raise TypeError(f"{cls.__name__}.LIMITS[{name!r}] = {text!r} is not a range like '> 0', '>= 1' or '[0, 1)'")


def _config_schema(cls: type) -> dict[str, tuple]:
    """Per field of a config class: (type hint, parsed limit or None, choices or None, the fewest
    entries a variadic tuple takes or 0); cached."""
    schema = _SCHEMAS.get(cls)
    if schema is None:
        hints = typing.get_type_hints(cls)
        limits, choices, lengths = {}, {}, {}
        for klass in reversed(cls.__mro__):
            limits.update(vars(klass).get("LIMITS", {}))
            choices.update(vars(klass).get("CHOICES", {}))
            lengths.update(vars(klass).get("MIN_LENGTHS", {}))
        names = {f.name for f in dataclasses.fields(cls)}
        stray = sorted((set(limits) | set(choices) | set(lengths)) - names)
        if stray:
            raise TypeError(f"{cls.__name__}: LIMITS/CHOICES/MIN_LENGTHS name no field: {stray}")
        schema = {f.name: (hints.get(f.name, typing.Any),
                           _parse_limit(cls, f.name, limits[f.name]) if f.name in limits else None,
                           tuple(choices[f.name]) if f.name in choices else None,
                           lengths.get(f.name, 1 if _is_variadic(hints.get(f.name)) else 0))
                  for f in dataclasses.fields(cls)}
        _SCHEMAS[cls] = schema
    return schema


def _is_variadic(hint) -> bool:
    """``tuple[X, ...]`` (or ``tuple[X, ...] | None``)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_variadic(a) for a in typing.get_args(hint))
    args = typing.get_args(hint)
    return origin is tuple and len(args) == 2 and args[1] is Ellipsis


def _coerce(value, hint):
    """``value`` as the annotation ``hint`` wants it (int -> float, list -> tuple), or _Mismatch."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        wanted = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a)
            except _Mismatch as exc:
                wanted.append(str(exc))
        raise _Mismatch(" or ".join(wanted + (["None"] if type(None) in args else [])))
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch("true or false")
    if hint is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return value if type(value) is int else int(value)
        raise _Mismatch("an integer")
    if hint is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = value if type(value) is float else float(value)
            if not math.isfinite(value):
                raise _Mismatch("a finite number")
            return value
        raise _Mismatch("a number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch("a string")
    if origin is tuple:
        args = typing.get_args(hint)
        variadic = len(args) == 2 and args[1] is Ellipsis
        what = f"a list of {_plural(args[0])}" if variadic else f"a list of {len(args)} values"
        if not isinstance(value, (tuple, list)) or (not variadic and len(value) != len(args)):
            raise _Mismatch(what)
        try:
            if variadic:
                items = tuple(_coerce(v, args[0]) for v in value)
            else:
                items = tuple(_coerce(v, a) for v, a in zip(value, args))
        except _Mismatch:
            raise _Mismatch(what) from None
        return value if isinstance(value, tuple) and all(a is b for a, b in zip(items, value)) else items
    return value           # an annotation this check does not know: taken as it is


def _plural(hint) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(hint, "values")


class GenerativeModel:
    """Base class of every model. Subclasses set ``Config``, ``PRESETS``, ``data_kinds``,
    ``family`` and (for the literature comparison) ``paper`` and ``published_names``."""

    name: ClassVar[str]
    Config: ClassVar[type[BaseConfig]] = BaseConfig
    PRESETS: ClassVar[dict[str, dict]] = {"default": {}}
    data_kinds: ClassVar[tuple[str, ...]] = ("image",)
    conditional: ClassVar[bool] = False
    family: ClassVar[str] = ""                   # "autoencoder" or "gan": what benchmarks and claims group by
    architecture: ClassVar[str] = ""             # on images: "mlp" or "conv"
    paper: ClassVar[str] = ""                    # e.g. "Mao et al. 2017"
    published_names: ClassVar[tuple[str, ...]] = ()   # its names in published tables (Lucic et al. 2018: "LSGAN")
    batches_per_step: ClassVar[int] = 1          # real batches one training step draws (WGAN: n_critic)
    variant_of: ClassVar[str] = ""               # a named variant: the model it modifies ("gan" for pacgan4)
    remedy: ClassVar[str] = ""                   # ... and the remedy for mode collapse it applies ("pack")
    improves_on: ClassVar[str] = ""              # the model its paper measures its progress against (ProGAN,
                                                 # StyleGAN: "dcgan"): compared at the same images shown
    sampler_nets: ClassVar[tuple[str, ...]] = ()  # the networks sample() uses (save_pretrained(sampler_only=True))

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
        return dataclasses.replace(config, **overrides)   # the config's __post_init__ checks the values

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
        """The networks for items of ``shape`` ((C, H, W) images of a side :meth:`unsupported_reason`
        accepts, or (D,) points); called under a seeded RNG. A GAN's discriminator must give one
        logit per item: :meth:`~genzoo.models.adversarial.AdversarialModel.check_one_logit`."""
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers, by the names the :class:`Update` objects use."""
        raise NotImplementedError

    def updates(self) -> list[Update]:
        """The optimizer updates of one training step, in order (read once per fit)."""
        raise NotImplementedError

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Decode latent codes ``z`` (on the model's device) into data space (model scale)."""
        raise NotImplementedError

    def on_train_end(self, data_x: torch.Tensor, data_y: torch.Tensor) -> None:
        """Hook after the last step (the AE fits its code Gaussian here). ``data_x`` is the training
        set as it is stored on the training device (uint8 images, or float32 in [0, 1], or points):
        convert it in chunks, ``self.to_model_scale(genzoo.data.as_float(chunk))``, never whole."""

    # --- data scaling: images live in [-1, 1] inside GANs, [0, 1] in AE / VAE -----------------
    def to_model_scale(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def to_data_scale(self, x: torch.Tensor) -> torch.Tensor:
        return x

    # --- the public contract ------------------------------------------------------------------
    def supports(self, data: Dataset) -> bool:
        return self.unsupported_reason(data) is None

    def unsupported_reason(self, data: Dataset) -> str | None:
        """Why this model cannot be built for ``data``, in one line, or None: data of a kind it does
        not fit, or images of a side its networks do not build for (square, 7 * 2^k or 4 * 2^k
        pixels: :mod:`genzoo.models._shapes`). Read from the data's kind and shape alone, before
        any network is built."""
        if data.kind not in self.data_kinds:
            return (f"{self.name} fits {' and '.join(self.data_kinds)} data only; "
                    f"{data.name!r} holds {data.kind} of shape {data.shape}")
        if data.kind == "image":
            why = _shapes.image_refusal(data.shape)
            if why:
                return f"{self.name} {why}; {data.name!r} holds images of shape {data.shape}"
        return None

    def pack_refusal(self, data: Dataset) -> str | None:
        """Why :func:`genzoo.fit_seeds` cannot train seeds of this model (its config as it is)
        together on ``data``, in a few words naming the model (``check_packable`` refuses with
        it), or None. A family overrides it where its step keeps state outside the networks and
        the step context (a buffer of past samples) or differentiates inside the step (a gradient
        penalty): what vmap over stacked seeds cannot do."""
        return None

    def compile_refusal(self) -> str | None:
        """Why this model's step cannot be compiled (``fit(compile=True)``: it then trains
        eagerly, saying so), in a few words naming the model, or None. A family overrides it where
        its step differentiates inside the step (a gradient penalty: double backward) or keeps
        state outside the networks that changes every step (a buffer of past samples)."""
        return None

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "nets_")

    @property
    def is_sampler_only(self) -> bool:
        """Loaded from a sampler-only checkpoint: it samples, but holds no networks to train or encode with."""
        return self.is_fitted and bool(self.sampler_nets) and set(self.nets_) == set(self.sampling_nets())

    def fit(self, data: Dataset, *, seed: int = 0, device: str | torch.device = "auto", callbacks=(),
            log_interval: int = 50, compile=False):
        """Train on ``data``; returns ``self``. ``data``: images (N, C, H, W) as uint8 (0..255) or
        float32 in [0, 1], of a side the networks build for (7 * 2^k or 4 * 2^k: 28, 32, 64, ...),
        or float32 points; the set goes to the device as it is (no float copy) and each batch is
        converted as it is drawn. ``seed``: an integer from 0 to ``genzoo.limits.MAX_SEED``.
        ``log_interval``: steps between two reads of the losses back to the host (the history
        still gets every step). ``compile``: True compiles each optimizer update of the step with
        ``torch.compile`` (CUDA graphs on CUDA; :mod:`genzoo.training.compile`: the same results
        up to float rounding; a model that cannot be compiled, :meth:`compile_refusal`, trains
        eagerly with a warning saying why). Bad input (the seed, the data: :meth:`check_data`) is
        refused before any network is built."""
        seed = check_seed(seed, "fit: seed")
        check_log_interval(log_interval)
        compile_spec(compile)
        self.check_data(data)
        dev = resolve_device(device)
        before = self._fitted_state()
        try:
            self.setup(data.shape, data.num_classes, seed, dev, data_name=data.name)
            fit_model(self, data, seed=seed, device=dev, callbacks=callbacks, log_interval=log_interval,
                      compile=compile)
        except BaseException:     # diverged, failed or interrupted: the model is as it was
            self._restore_fitted_state(before)
            raise
        return self

    def check_data(self, data, what: str = "fit") -> None:
        """Raise ValueError, in one line naming what is wrong and what is accepted, when this model
        (its config as it is) cannot be fitted on ``data``: not a Dataset; fewer than 2 items; of a
        kind the model does not fit or images of a side it does not build for
        (:meth:`unsupported_reason`); x neither float32 nor uint8 images; float images outside
        [0, 1]; labels outside 0..num_classes - 1 (conditional models); a ``batch_size`` larger
        than the data, or too small for the networks' batch norm. ``fit`` and ``fit_seeds`` call
        it first; a benchmark can call it for every planned run before training any. It reads
        float data once (its min and max; uint8 images are in range by their type) and changes nothing."""
        if not isinstance(data, Dataset):
            raise ValueError(f"{what} takes a genzoo.data.Dataset, got {type(data).__name__}")
        _checks.check_item_count(data, what, self.name)
        reason = self.unsupported_reason(data)
        if reason:
            raise ValueError(reason)
        _checks.check_fit_data(self, data, what)

    def min_batch_size(self, data: Dataset) -> int:
        """The smallest training batch the networks for ``data`` accept: 2 where batch norm
        normalises (batch, features) vectors (one item has no batch statistics), else 1."""
        return _checks.min_batch_size(self, data)

    def _fitted_state(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("__")}

    def _restore_fitted_state(self, state: dict) -> None:
        for k in list(self._fitted_state()):
            delattr(self, k)
        for k, v in state.items():
            setattr(self, k, v)

    def setup(self, shape, num_classes, seed, device, data_name=""):
        """Fresh networks for this data (seeded), replacing any fitted state."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            nets = self.build(tuple(shape), num_classes)
        self.nets_ = nets.to(device)
        self.shape_, self.num_classes_, self.seed_ = tuple(shape), num_classes, seed
        self.data_name_ = data_name
        self.device_ = device
        self.history_ = []
        self.sample_rng_ = torch.Generator().manual_seed(seed + 1)

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
        n = _checks.check_n(n, self._item_numel(), self.name)
        gen = self.sample_rng_ if seed is None else torch.Generator().manual_seed(check_seed(seed, "sample: seed", MAX_SAMPLE_SEED))
        labels = self._check_labels(n, labels)
        z = torch.randn(n, self.config.latent_dim, generator=gen)  # drawn on CPU: same on every device
        return self._decode_eval(z, labels, codes=codes)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples of latent codes ``z`` (n, latent_dim), drawn from N(0, I) as :meth:`sample` draws
        them: ``sample(n, seed=s)`` is ``decode(torch.randn(n, latent_dim, generator=<seeded s>))``.
        For walks through the latent space (interpolations); a float32 CPU tensor like ``sample``'s."""
        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet: call fit(data) before decode()")
        d = self.config.latent_dim
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != d:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must be a tensor of shape (n, {d}), got {got}")
        _checks.check_n(len(z), self._item_numel(), self.name, what="decode")
        return self._decode_eval(z.float(), self._check_labels(len(z), labels), codes=self._code_map())

    def _item_numel(self) -> int:
        return _checks.item_numel(self.shape_, self.config.latent_dim)

    def _code_map(self):
        """The map from N(0, I) noise to the codes that are decoded (None: the identity)."""
        return None

    def weight_averages(self) -> list:
        """The weight averages (:class:`genzoo.training.step.Average`) the training loop keeps
        beside the networks it trains: none, unless the model samples from one (a GAN with ``ema``)."""
        return []

    def schedule(self):
        """The training schedule the loop follows (a :class:`genzoo.training.schedule.Schedule`:
        phases by images shown, scaled to the fit's budget; its losses read the step's progress
        from ``ctx.progress``), read once per fit after the networks are built (``shape_`` is
        set): None, unless the model's training changes as it goes (ProGAN's growing)."""
        return None

    def sampling_nets(self) -> tuple[str, ...]:
        """The names in ``nets_`` that sampling uses (what ``save_pretrained(sampler_only=True)``
        keeps): ``sampler_nets``, unless the model samples from other networks (a GAN with
        ``ema``: the averaged generator)."""
        return tuple(self.sampler_nets)

    def sampling_generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What :meth:`sample` and :meth:`decode` decode with: :meth:`generate`, unless the model
        samples from other networks than it trains (a GAN with ``ema``)."""
        return self.generate(z, labels)

    def prepare_sampling(self) -> None:
        """Called (under no_grad, the networks in eval mode) before every batch of samples is
        decoded: nothing, unless the model samples from networks whose statistics it must first
        compute (a GAN's averaged generator: its batch-norm statistics)."""

    @torch.no_grad()          # every sampling path goes through here: never a graph, whatever calls it
    def _decode_eval(self, z: torch.Tensor, labels: torch.Tensor | None, chunk: int = 1024,
                     codes=None) -> torch.Tensor:
        was_training = self.nets_.training
        self.nets_.eval()
        try:
            self.prepare_sampling()
            out = []
            for i in range(0, max(len(z), 1), chunk):
                zi = z[i:i + chunk].to(self.device_)
                if codes is not None:
                    zi = codes(zi)
                li = None if labels is None else labels[i:i + chunk].to(self.device_)
                out.append(self.to_data_scale(self.sampling_generate(zi, li)).float().cpu())
            return torch.cat(out)[: len(z)]
        finally:
            self.nets_.train(was_training)

    # --- persistence (diffusers-style) ------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike, *, sampler_only: bool = False) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (weights only, never pickles);
        config.json records the weights file's sha256 and size (``"files"``), which loading checks.

        ``sampler_only``: only the networks :meth:`sample` needs (``sampler_nets``: a GAN's
        generator, an autoencoder's decoder), a fraction of the size; the model loaded back samples
        exactly as this one (fp32 weights as they are) but cannot be trained on or encode."""
        from .. import __version__

        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet: nothing to save")
        if sampler_only and not self.sampler_nets:
            raise ValueError(f"{self.name} declares no sampler_nets: it cannot be saved sampler-only")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "class": type(self).__name__, "model": self.name, "genzoo_version": __version__,
            "config": dataclasses.asdict(self.config),
            "fitted": {"shape": list(self.shape_), "num_classes": self.num_classes_, "seed": self.seed_,
                       "data": self.data_name_},
        }
        nets = self.nets_
        if sampler_only or self.is_sampler_only:
            meta["sampler_only"] = True
            nets = nn.ModuleDict({k: self.nets_[k] for k in self.sampling_nets()})
        state = {k: v.detach().cpu().contiguous() for k, v in nets.state_dict().items()}
        weights = safetensors_bytes(state)          # not save_file: it makes 0600 files
        meta["files"] = {WEIGHTS: _checkpoint.file_record(weights)}      # what loading verifies
        sweep_stale_tmp(directory)
        write_bytes(directory / WEIGHTS, weights)
        write_text(directory / "config.json", json.dumps(meta, indent=2))
        return directory

    @classmethod
    def _from_pretrained(cls, directory: Path, meta: dict, *, verify: bool = True) -> "GenerativeModel":
        """The model that ``directory`` holds, ``meta`` being its parsed ``config.json`` (a dict).
        Anything in the folder that does not fit raises CheckpointError naming the file; so does a
        weights file whose sha256 is not the one config.json records (``verify=False`` skips that
        check; a folder saved before the hashes were recorded has none to check)."""
        cfg_path, weights = directory / "config.json", directory / WEIGHTS
        config = meta.get("config")
        if not isinstance(config, dict):
            raise CheckpointError(f"{cfg_path}: 'config' must be an object of config values, got {config!r}")
        try:
            model = cls(cls._replace(cls.Config(), config))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{cfg_path}: {exc}") from None
        shape, num_classes, seed, data_name = _fitted_fields(cfg_path, meta.get("fitted"))
        try:
            model.setup(shape, num_classes, seed, torch.device("cpu"), data_name)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{cfg_path}: cannot build {cls.name} networks for items of shape "
                                  f"{list(shape)} ({_first_lines(exc)})") from None
        sampler_only = meta.get("sampler_only", False)
        if not isinstance(sampler_only, bool):
            raise CheckpointError(f"{cfg_path}: 'sampler_only' must be true or false, got {sampler_only!r}")
        if sampler_only and not cls.sampler_nets:
            raise CheckpointError(f"{cfg_path}: 'sampler_only' is true, but {cls.name} declares no sampler networks")
        if sampler_only:       # only the networks sample() uses
            model.nets_ = nn.ModuleDict({k: model.nets_[k] for k in model.sampling_nets()})   # the others dropped
        state = _read_weights(weights, meta if verify else None, cfg_path)
        try:
            model.nets_.load_state_dict(state)
        except RuntimeError as exc:  # size mismatch, missing or unexpected keys
            raise CheckpointError(f"weights in {weights} do not match the networks {cfg_path.name} describes "
                                  f"(was {cfg_path.name} edited?): {_first_lines(exc, skip_header=True)}") from None
        return model

    def to(self, device) -> "GenerativeModel":
        """Move a fitted model's networks to ``device``."""
        self.device_ = resolve_device(device)
        self.nets_.to(self.device_)
        return self


def _read_weights(weights: Path, meta: dict | None, cfg_path: Path) -> dict[str, torch.Tensor]:
    """The tensors of ``weights``, read once; checked against config.json's record when ``meta``
    is given. A missing, unreadable, truncated or changed file raises CheckpointError naming it."""
    entry = None if meta is None else _checkpoint.recorded(meta, cfg_path, weights.name)
    if not weights.is_file():
        raise CheckpointError(f"{weights} is missing: {weights.parent} is not a complete genzoo model folder")
    try:
        data = weights.read_bytes()
        state = safetensors_load(data)
    except Exception as exc:     # safetensors' SafetensorError (truncated, not a safetensors file), OSError
        raise CheckpointError(f"{weights} is truncated or not a safetensors file ({_first_lines(exc)})") from None
    _checkpoint.verify(weights, data, entry)
    return state


def _fitted_fields(cfg_path: Path, fitted) -> tuple[tuple[int, ...], int, int, str]:
    """(shape, num_classes, seed, data name) from config.json's ``fitted``, or CheckpointError."""
    if not isinstance(fitted, dict):
        raise CheckpointError(f"{cfg_path}: 'fitted' must be an object with shape, num_classes and seed, got {fitted!r}")
    missing = [k for k in ("shape", "num_classes", "seed") if k not in fitted]
    if missing:
        raise CheckpointError(f"{cfg_path}: 'fitted' lacks {', '.join(missing)}")
    shape, k, seed, data_name = fitted["shape"], fitted["num_classes"], fitted["seed"], fitted.get("data", "")

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    if not (isinstance(shape, list) and len(shape) in (1, 3) and all(is_int(d) and d >= 1 for d in shape)):
        raise CheckpointError(f"{cfg_path}: fitted shape must be [D] or [C, H, W] of positive integers, got {shape!r}")
    if not (is_int(k) and k >= 1):
        raise CheckpointError(f"{cfg_path}: fitted num_classes must be an integer >= 1, got {k!r}")
    if not is_int(seed):
        raise CheckpointError(f"{cfg_path}: fitted seed must be an integer, got {seed!r}")
    if not isinstance(data_name, str):
        raise CheckpointError(f"{cfg_path}: fitted data must be a dataset name, got {data_name!r}")
    return tuple(shape), k, seed, data_name


def _first_lines(exc: BaseException, n: int = 2, skip_header: bool = False) -> str:
    """The first ``n`` non-empty lines of an exception's message, joined on one line (torch's
    load_state_dict message starts with a header line, which ``skip_header`` drops)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if skip_header and len(lines) > 1:
        lines = lines[1:]
    text = "; ".join(lines[:n]) or type(exc).__name__
    return text + ("; ..." if len(lines) > n else "")
