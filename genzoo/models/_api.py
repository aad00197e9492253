"""The model registry, after torchvision's ``models/_api.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TypeVar

M = TypeVar("M")
_MODELS: dict[str, type] = {}


def register_model(name: str) -> Callable[[type[M]], type[M]]:
    """Class decorator adding a model family to the registry under ``name``."""

    def wrapper(cls: type[M]) -> type[M]:
        if name in _MODELS:
            raise ValueError(f"a model is already registered under the name {name!r}")
        cls.name = name
        config = cls.__dict__.get("Config")
        if config is not None and not config.__dict__.get("model_name"):
            config.model_name = name          # validation messages start with the model's name
        _MODELS[name] = cls
        return cls

    return wrapper


def list_models(*, family: str | None = None, data_kind: str | None = None) -> list[str]:
    """Registered model names, sorted; only those of ``family`` ("autoencoder", "gan") and those
    that fit ``data_kind`` ("image", "points") when given."""
    return sorted(name for name, cls in _MODELS.items()
                  if (family is None or cls.family == family)
                  and (data_kind is None or data_kind in cls.data_kinds))


def list_families() -> list[str]:
    """The families the registered models declare, sorted."""
    return sorted({cls.family for cls in _MODELS.values()})


def get_model_class(name: str) -> type:
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {list_models()}") from None


def get_model(name: str, preset: str = "default", **overrides):
    """A new, unfitted model: ``get_model("vae", preset="tiny", latent_dim=16)``."""
    return get_model_class(name).from_preset(preset, **overrides)


def load(directory: str | Path, *, verify: bool = True):
    """Restore a model written by ``save_pretrained`` (a full or a sampler-only folder).

    A missing folder or config.json raises FileNotFoundError; a folder whose files cannot be
    loaded (config.json not JSON or missing keys or holding bad values, model.safetensors
    truncated or not matching the networks config.json describes) raises
    :class:`genzoo.errors.CheckpointError` naming the file and why.

    ``verify``: check model.safetensors against the sha256 and size config.json records for it
    (``save_pretrained`` writes them), so that a weights file changed after it was saved (a
    flipped byte still parses) raises CheckpointError naming the file and both hashes instead of
    sampling garbage. ``verify=False`` loads such a file anyway. Folders saved before the hashes
    were recorded have none to check and load as they are, without a word.
    """
    from ..errors import CheckpointError

    if not isinstance(verify, bool):
        raise ValueError(f"load: verify must be True or False, got {verify!r}")
    directory = Path(directory)
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{directory} holds no config.json: not a genzoo model folder")
    try:
        meta = json.loads(cfg_path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{cfg_path} holds a JSON {type(meta).__name__}, not an object with "
                              f"'model', 'config' and 'fitted'")
    missing = [k for k in ("model", "config", "fitted") if k not in meta]
    if missing:
        raise CheckpointError(f"{cfg_path} lacks {', '.join(map(repr, missing))}: not written by save_pretrained")
    name = meta["model"]
    if not isinstance(name, str) or name not in _MODELS:
        raise CheckpointError(f"{cfg_path}: unknown model {name!r}; choose one of {list_models()}")
    return _MODELS[name]._from_pretrained(directory, meta, verify=verify)
