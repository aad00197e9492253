"""The shared training loop."""

from .loop import StepContext, fit_model, total_steps

__all__ = ["StepContext", "fit_model", "total_steps"]
