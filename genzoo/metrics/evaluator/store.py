"""Evaluator weights on disk: safetensors files whose metadata builds the network again.

A file holds the network's tensors and one metadata entry, ``genzoo``: sorted JSON of its
architecture (:meth:`EvaluatorCNN.architecture`), its training recipe, its test accuracy and the
torch version that trained it. A file trained on first use lives in genzoo's cache,
``<cache>/evaluators/<name>-<data sha256[:16]>.safetensors``: the key is a digest of the train
split it learned from (images, labels or attributes), so a classifier trained on other files of
the same format (a test's generated ones) is never used for the real data. Its metadata also
holds that digest in full (``data_sha256``) and the sha256 of its own tensors
(``tensors_sha256``), both checked when it is read: a file that fails is trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from .network import EvaluatorCNN

FORMAT = "genzoo-evaluator/1"


class EvaluatorWeightsError(RuntimeError):
    """The evaluator's weights file is missing or is not the file genzoo was released with."""


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _update(h, t: torch.Tensor, rows: int = 4096) -> None:
    """Feed a tensor's dtype, shape and bytes to a hash, a block of rows at a time (no copy of a
    large image set)."""
    t = t.detach().cpu()
    h.update(f"{t.dtype}|{tuple(t.shape)}|".encode())
    if t.dim() == 0:
        h.update(t.reshape(1).numpy().tobytes())
        return
    for i in range(0, len(t), rows):
        h.update(t[i:i + rows].contiguous().numpy())


def data_digest(x: torch.Tensor, target: torch.Tensor) -> str:
    """sha256 of a training split: its images and what the evaluator learns from them (the labels
    or the attributes), each with its dtype and shape."""
    h = hashlib.sha256()
    _update(h, x)
    _update(h, target)
    return h.hexdigest()


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 of named tensors: each name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(f"{name}|".encode())
        _update(h, tensors[name])
    return h.hexdigest()


def cache_dir() -> Path:
    """Where evaluators trained on first use are kept: ``<genzoo's cache>/evaluators``."""
    from genzoo.data import cache_root

    return cache_root() / "evaluators"


def cached_path(name: str, digest: str) -> Path:
    """The cache file of evaluator ``name`` trained on the split whose :func:`data_digest` is ``digest``."""
    return cache_dir() / f"{name}-{digest[:16]}.safetensors"


def encode(model: EvaluatorCNN, info: dict, extra: dict | None = None) -> bytes:
    """The safetensors file of ``model``: its tensors and one metadata entry, ``genzoo`` (sorted
    JSON of ``info``'s ``config``, ``test_accuracy`` and ``torch``, the architecture, and
    ``extra``: the cache's ``format`` and ``data_sha256``, with ``tensors_sha256`` then added)."""
    from safetensors.torch import save

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    doc = {"test_accuracy": round(info["test_accuracy"], 4), "torch": info["torch"], **info["config"],
           **model.architecture()}
    if extra:
        doc.update(extra, tensors_sha256=tensors_sha256(state))
    # one metadata entry holding sorted JSON: safetensors writes several entries in an arbitrary
    # order, which would make the file's bytes (and sha256) differ between identical runs
    return save(state, metadata={"genzoo": json.dumps(doc, sort_keys=True)})


def save_weights(model: EvaluatorCNN, path: str | os.PathLike, info: dict, extra: dict | None = None) -> str:
    """Write :func:`encode`'s file atomically and return its sha256."""
    from ..._io import write_bytes

    data = encode(model, info, extra)
    write_bytes(Path(path), data)
    return hashlib.sha256(data).hexdigest()


def read_metadata(path: str | os.PathLike) -> dict:
    """A weights file's ``genzoo`` metadata entry, parsed ({} when it has none)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return json.loads((f.metadata() or {}).get("genzoo", "{}"))


def build(arch: dict, state: dict[str, torch.Tensor]) -> EvaluatorCNN:
    """The network a file's metadata (:func:`read_metadata`) describes, with its tensors, in eval mode."""
    model = EvaluatorCNN(width=int(arch.get("width", 20)), num_features=int(arch.get("num_features", 128)),
                         num_classes=int(arch.get("num_classes", 10)), dropout=float(arch.get("dropout", 0.2)),
                         **{k: (tuple(arch[k]) if isinstance(arch[k], list) else arch[k])
                            for k in ("in_channels", "size", "pixel_mean", "pixel_std", "multilabel") if k in arch})
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


def load_checked(path: Path, data_sha256: str) -> tuple[EvaluatorCNN, dict] | str:
    """A cached evaluator trained on the split of ``data_sha256``: (network, metadata) when the file
    is genzoo's format, says that digest, and its tensors match their hash; else why not (a phrase)."""
    from safetensors.torch import load_file

    if not path.is_file():
        return "absent"
    try:
        meta = read_metadata(path)
        state = load_file(str(path))
    except Exception:            # an interrupted writer of another program, or junk: train again
        return "unreadable"
    if meta.get("format") != FORMAT:
        return "not a genzoo evaluator file"
    if meta.get("data_sha256") != data_sha256:
        return "trained on other data"
    if meta.get("tensors_sha256") != tensors_sha256(state):
        return "its weights do not match their hash"
    try:
        return build(meta, state), meta
    except (ValueError, RuntimeError, json.JSONDecodeError) as exc:
        return f"it does not build ({' '.join(str(exc).split())[:120]})"
