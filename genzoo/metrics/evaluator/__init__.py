"""genzoo's own evaluator network, shipped with the package.

``genzoo.metrics.evaluator()`` returns the trained :class:`FashionCNN` (cached, eval mode, CPU).
Its weights live in ``genzoo/metrics/weights/fashion_cnn.safetensors``; they were produced by
``python -m genzoo.metrics.evaluator train`` and their sha256 is checked at load.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from .network import FashionCNN

WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "fashion_cnn.safetensors"
# sha256 of the shipped weights file (printed by `python -m genzoo.metrics.evaluator train`)
WEIGHTS_SHA256 = "51097a467cc9d6dd9eb08bfeb3364e7ab6116efe0dc23f9c52fc579fb91ebe37"


class EvaluatorWeightsError(RuntimeError):
    """The evaluator's weights file is missing or is not the file genzoo was released with."""


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_evaluator(path: str | os.PathLike = WEIGHTS_PATH, sha256: str | None = WEIGHTS_SHA256) -> FashionCNN:
    """Build the network from a safetensors file; ``sha256=None`` skips the integrity check."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise EvaluatorWeightsError(
            f"evaluator weights not found at {path}; reinstall genzoo or recreate them with "
            f"`python -m genzoo.metrics.evaluator train`")
    if sha256 is not None:
        got = file_sha256(path)
        if got != sha256:
            raise EvaluatorWeightsError(
                f"evaluator weights {path} have sha256 {got}, expected {sha256}: the file is corrupt "
                f"or was retrained; metrics computed with it would not be comparable")
    with safe_open(str(path), "pt") as f:
        meta = json.loads((f.metadata() or {}).get("genzoo", "{}"))     # written by train.save_weights
    model = FashionCNN(width=int(meta.get("width", 20)), num_features=int(meta.get("num_features", 128)),
                       dropout=float(meta.get("dropout", 0.2)))
    model.load_state_dict(load_file(str(path)))
    return model.eval().requires_grad_(False)


@functools.lru_cache(maxsize=1)
def evaluator() -> FashionCNN:
    """The shipped evaluator (loaded once per process). Do not modify it in place; copy it first."""
    return load_evaluator()


def evaluator_id() -> str:
    """A short name of the shipped network, used in cache keys."""
    return f"fashion_cnn-{WEIGHTS_SHA256[:12]}"


__all__ = ["FashionCNN", "EvaluatorWeightsError", "WEIGHTS_PATH", "WEIGHTS_SHA256", "evaluator",
           "evaluator_id", "load_evaluator", "file_sha256"]
