"""Evaluation of generative models: ``score(samples_or_model, reference)`` and its parts.

Feature space: genzoo's own evaluator CNN (``evaluator()``), trained on Fashion-MNIST and shipped
with the package; torchmetrics' InceptionV3 is used in addition when its weights are on disk.
"""

from .evaluator import EvaluatorWeightsError, FashionCNN, evaluator
from .fid import TooFewSamplesError, frechet_distance, kernel_distance
from .modes import ClassCoverage, PointModeCoverage, StackedModeCoverage, per_class_accuracy
from .prdc import DensityCoverage, PrecisionRecall
from .score import DEFAULT_N, HIGHER_IS_BETTER, Scores, applicable_metrics, default_metrics, score
from .sharpness import Sharpness

__all__ = ["score", "Scores", "default_metrics", "applicable_metrics", "HIGHER_IS_BETTER", "DEFAULT_N",
           "evaluator", "FashionCNN", "EvaluatorWeightsError", "TooFewSamplesError",
           "frechet_distance", "kernel_distance", "per_class_accuracy",
           "PrecisionRecall", "DensityCoverage", "ClassCoverage", "StackedModeCoverage",
           "PointModeCoverage", "Sharpness"]
