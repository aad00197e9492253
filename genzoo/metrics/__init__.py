"""Evaluation of generative models: ``score(samples_or_model, reference)`` and its parts.

What a reference is scored with comes from its dataset's declaration (``genzoo.data.dataset_info``):
its default metrics and sample count, how modes are counted, and its evaluator, the feature space of
FID / KID / IS / PRDC: the Fashion-MNIST CNN shipped with the package (``evaluator()``), or the same
kind of network for MNIST, CIFAR-10 and CelebA 64x64, trained on first use and cached
(``get_evaluator``). torchmetrics' InceptionV3 is used in addition when its weights are on disk.

The names load on first use (PEP 562), so that ``genzoo.metrics.cli`` (the ``genzoo score``
parser) is imported without torch.
"""

from __future__ import annotations

from .._lazy import install

_FROM = {
    "EvaluatorWeightsError": ".evaluator", "FashionCNN": ".evaluator", "evaluator": ".evaluator",
    "EVALUATORS": ".evaluator", "get_evaluator": ".evaluator", "default_n": ".score",
    "TooFewSamplesError": ".fid", "frechet_distance": ".fid", "kernel_distance": ".fid",
    "ClassCoverage": ".modes", "PointModeCoverage": ".modes", "StackedModeCoverage": ".modes",
    "per_class_accuracy": ".modes", "DensityCoverage": ".prdc", "PrecisionRecall": ".prdc",
    "DEFAULT_N": ".score", "HIGHER_IS_BETTER": ".score", "Scores": ".score", "applicable_metrics": ".score",
    "default_metrics": ".score", "score": ".score", "Sharpness": ".sharpness",
}

__all__ = ["score", "Scores", "default_metrics", "default_n", "applicable_metrics", "HIGHER_IS_BETTER", "DEFAULT_N",
           "evaluator", "get_evaluator", "EVALUATORS", "FashionCNN", "EvaluatorWeightsError", "TooFewSamplesError",
           "frechet_distance", "kernel_distance", "per_class_accuracy",
           "PrecisionRecall", "DensityCoverage", "ClassCoverage", "StackedModeCoverage",
           "PointModeCoverage", "Sharpness"]


install(__name__, _FROM, __all__)
