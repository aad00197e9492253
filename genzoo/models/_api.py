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
        _MODELS[name] = cls
        return cls

    return wrapper


def list_models() -> list[str]:
    """Registered model names, in registration order."""
    return list(_MODELS)


def get_model_class(name: str) -> type:
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {list_models()}") from None


def get_model(name: str, preset: str = "default", **overrides):
    """A new, unfitted model: ``get_model("vae", preset="tiny", latent_dim=16)``."""
    return get_model_class(name).from_preset(preset, **overrides)


def load(directory: str | Path):
    """Restore a model written by ``save_pretrained``."""
    directory = Path(directory)
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{directory} holds no config.json: not a genzoo model folder")
    meta = json.loads(cfg_path.read_text())
    return get_model_class(meta["model"])._from_pretrained(directory, meta)
