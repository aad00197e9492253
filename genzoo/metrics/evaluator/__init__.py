"""genzoo's evaluator networks: one per dataset that declares an evaluator (``DatasetInfo.evaluator``).

- ``"fashion-mnist"``: the :class:`FashionCNN` shipped with the package
  (``genzoo/metrics/weights/fashion_cnn.safetensors``, produced by ``python -m
  genzoo.metrics.evaluator train fashion-mnist``; its sha256 is checked at load).
  ``genzoo.metrics.evaluator()`` returns it (cached, eval mode, CPU).
- ``"mnist"``, ``"cifar10"``, ``"celeba64"``: the same kind of network (``celeba64``: 40 attribute
  outputs), trained on the dataset's train split by ``python -m genzoo.metrics.evaluator train
  DATASET`` or on first use, and kept in genzoo's cache under a digest of that split
  (:func:`get_evaluator`).
"""

from __future__ import annotations

from .network import EvaluatorCNN, FashionCNN
from .provide import Evaluator, get_evaluator, load_file, shipped
from .specs import EVALUATORS, WEIGHTS_PATH, WEIGHTS_SHA256, EvaluatorSpec, evaluator_spec, spec_for
from .store import EvaluatorWeightsError, file_sha256


def load_evaluator(path=WEIGHTS_PATH, sha256: str | None = WEIGHTS_SHA256) -> EvaluatorCNN:
    """Build the network from a safetensors file; ``sha256=None`` skips the integrity check."""
    return load_file(path, sha256)


def evaluator() -> FashionCNN:
    """The shipped Fashion-MNIST evaluator (loaded once per process). Do not modify it in place; copy it first."""
    return shipped("fashion-mnist").network


def evaluator_id() -> str:
    """A short name of the shipped network, used in cache keys."""
    spec = EVALUATORS["fashion-mnist"]
    return f"{spec.stem}-{spec.shipped_sha256[:12]}"


__all__ = ["FashionCNN", "EvaluatorCNN", "EvaluatorWeightsError", "WEIGHTS_PATH", "WEIGHTS_SHA256", "EVALUATORS",
           "EvaluatorSpec", "Evaluator", "evaluator", "evaluator_id", "evaluator_spec", "spec_for", "get_evaluator",
           "load_evaluator", "file_sha256"]
