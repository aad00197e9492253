"""``genzoo sweep``: hyper-parameter search with the protocol of Lucic et al. 2018 (random search,
trial 0 = the defaults, best-of-K and the expected best FID over k trials)."""

from .space import LEVELS, Dim, describe_space, draw_trials, model_space

__all__ = ["LEVELS", "Dim", "describe_space", "draw_trials", "model_space"]
