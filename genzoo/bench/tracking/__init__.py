"""Weights & Biases for the benchmarks: the only genzoo package that imports wandb (lazily, only
when a run is tracked).

- :mod:`.session`: the W&B runs of one bench (:class:`WandbSession`, :class:`Tracker`, the mode);
- :mod:`.callback`: what a fit logs as it trains (:class:`WandbCallback`, :func:`sample_image`);
- :mod:`.summary`: a record's W&B config and summary, the comparison of a benchmark's runs;
- :mod:`.replay`: ``genzoo wandb``, the W&B run of a finished record, logged from its files;
- :mod:`.offline`: a W&B run read back from its offline folder, without a server.
"""

from __future__ import annotations

from .callback import WandbCallback, logged_steps, sample_image
from .session import DEFAULT_PROJECT, Tracker, WandbSession, has_api_key, resolve_mode, server_unreachable
from .summary import FIT_STATS, log_comparison, wandb_config, wandb_summary

__all__ = ["DEFAULT_PROJECT", "FIT_STATS", "Tracker", "WandbCallback", "WandbSession", "has_api_key",
           "log_comparison", "logged_steps", "resolve_mode", "sample_image", "server_unreachable",
           "wandb_config", "wandb_summary"]
