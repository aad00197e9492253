"""Evaluation of generative models: ``score(samples_or_model, reference)`` and its parts.

Feature space: genzoo's own evaluator CNN (``evaluator()``), trained on Fashion-MNIST and shipped
with the package; torchmetrics' InceptionV3 is used in addition when its weights are on disk.

The names load on first use (PEP 562), so that ``genzoo.metrics.cli`` (the ``genzoo score``
parser) is imported without torch.
"""

from __future__ import annotations

from .._lazy import install

_FROM = {
    "EvaluatorWeightsError": ".evaluator", "FashionCNN": ".evaluator", "evaluator": ".evaluator",
    "TooFewSamplesError": ".fid", "frechet_distance": ".fid", "kernel_distance": ".fid",
    "ClassCoverage": ".modes", "PointModeCoverage": ".modes", "StackedModeCoverage": ".modes",
    "per_class_accuracy": ".modes", "DensityCoverage": ".prdc", "PrecisionRecall": ".prdc",
    "DEFAULT_N": ".score", "HIGHER_IS_BETTER": ".score", "Scores": ".score", "applicable_metrics": ".score",
    "default_metrics": ".score", "score": ".score", "Sharpness": ".sharpness",
}

__all__ = ["score", "Scores", "default_metrics", "applicable_metrics", "HIGHER_IS_BETTER", "DEFAULT_N",
           "evaluator", "FashionCNN", "EvaluatorWeightsError", "TooFewSamplesError",
           "frechet_distance", "kernel_distance", "per_class_accuracy",
           "PrecisionRecall", "DensityCoverage", "ClassCoverage", "StackedModeCoverage",
           "PointModeCoverage", "Sharpness"]


install(__name__, _FROM, __all__)
