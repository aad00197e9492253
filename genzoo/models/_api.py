"""The model registry, after torchvision's ``models/_api.py``, and the models of other packages.

A model joins the registry in one of two ways:

- a module of :mod:`genzoo.models` whose class is decorated with ``@register_model("name")``
  (genzoo's own models: the package imports every module in it);
- a plug-in: a class (or a module registering classes) in another installed package, declared as
  an entry point of the group :data:`ENTRY_POINT_GROUP` in that package's ``pyproject.toml``::

      [project.entry-points."genzoo.models"]
      hinge-gan = "mypkg.models:HingeGAN"     # registered under the entry point's name

  The entry points are loaded once, on the first read of the registry (:func:`list_models`,
  :func:`get_model`, :func:`load`, ...): importing genzoo imports no plug-in. A plug-in that fails to
  import, names no genzoo model class, or takes the name of a model already registered (a built-in
  one) is skipped with one warning line naming it and why; genzoo goes on without it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable, TypeVar

M = TypeVar("M")
_MODELS: dict[str, type] = {}
ENTRY_POINT_GROUP = "genzoo.models"
_log = logging.getLogger("genzoo.models")
_plugins = {"loaded": False}        # the entry points are loaded once, on the first read of the registry


def register_model(name: str) -> Callable[[type[M]], type[M]]:
    """Class decorator adding a model family to the registry under ``name`` (a plug-in's class
    named by its entry point is registered under the entry point's name without it)."""

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


def registry() -> dict[str, type]:
    """Every registered model class by name, the plug-ins' included (loaded on the first call)."""
    if not _plugins["loaded"]:
        load_plugins()
    return _MODELS


def load_plugins() -> list[str]:
    """Load the entry points of :data:`ENTRY_POINT_GROUP` (once: later calls do nothing) and
    return the names of the models they added. Each one that cannot be loaded is skipped with
    one warning line (logger ``genzoo.models``) naming it and why."""
    if _plugins["loaded"]:
        return []
    _plugins["loaded"] = True           # first: a plug-in reading the registry while it loads does not recurse
    from importlib.metadata import entry_points

    before = set(_MODELS)
    try:
        found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))
    except Exception as exc:            # noqa: BLE001 - a broken installation's metadata must not break genzoo
        _log.warning("genzoo could not read the %r entry points (%s): no plug-in model is loaded",
                     ENTRY_POINT_GROUP, _one_line(exc))
        return []
    for ep in found:
        why = _load_plugin(ep)
        if why:
            dist = getattr(getattr(ep, "dist", None), "name", None)
            _log.warning("genzoo skips the plug-in model %r (%s%s): %s", ep.name, ep.value,
                         f", package {dist}" if dist else "", why)
    return sorted(set(_MODELS) - before)


def _load_plugin(ep) -> str | None:
    """Register the model of entry point ``ep``; why it cannot be, or None."""
    from .base import GenerativeModel

    if ep.name in _MODELS and not _registers_itself(ep):
        return _taken(ep.name)
    try:
        obj = ep.load()
    except Exception as exc:            # noqa: BLE001 - a plug-in that fails to import is skipped, whatever it raises
        return f"it failed to load: {_one_line(exc)}"
    if isinstance(obj, type) and obj in _MODELS.values():
        return None                     # it registered itself (@register_model) on import
    if isinstance(obj, type) and issubclass(obj, GenerativeModel):
        if ep.name in _MODELS:
            return _taken(ep.name)
        register_model(ep.name)(obj)
        return None
    if isinstance(obj, type) or ep.name not in _MODELS:
        return (f"it names {getattr(obj, '__name__', type(obj).__name__)}, not a genzoo model class (a subclass of "
                f"genzoo.models.GenerativeModel) nor a module registering one under the name {ep.name!r}")
    return None                         # a module that registered its model(s) on import


def _taken(name: str) -> str:
    owner = _MODELS[name].__module__
    whose = "genzoo's own" if owner.split(".")[0] == "genzoo" else f"another plug-in's ({owner})"
    return f"the name {name!r} is {whose} model: rename the entry point"


def _registers_itself(ep) -> bool:
    """Whether the model registered under ``ep``'s name is the one ``ep`` names (imported before)."""
    cls = _MODELS.get(ep.name)
    module, _, attr = ep.value.partition(":")
    return cls is not None and cls.__module__ == module.strip() and (not attr or cls.__qualname__ == attr.strip())


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def list_models(*, family: str | None = None, data_kind: str | None = None) -> list[str]:
    """Registered model names, the plug-ins' included, sorted; only those of ``family``
    ("autoencoder", "gan") and those that fit ``data_kind`` ("image", "points") when given."""
    return sorted(name for name, cls in registry().items()
                  if (family is None or cls.family == family)
                  and (data_kind is None or data_kind in cls.data_kinds))


def list_families() -> list[str]:
    """The families the registered models declare, sorted."""
    return sorted({cls.family for cls in registry().values()})


def get_model_class(name: str) -> type:
    try:
        return registry()[name]
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
    if not isinstance(name, str) or name not in registry():
        raise CheckpointError(f"{cfg_path}: unknown model {name!r}; choose one of {list_models()} (a plug-in "
                              f"model loads where its package is installed)")
    return _MODELS[name]._from_pretrained(directory, meta, verify=verify)
