"""The shared training loop, below the models (data -> training -> models): one loop
(:func:`~genzoo.training.loop.train`) for one seed (``model.fit``: :func:`fit_model`) or several
stacked (:func:`fit_seeds`), the :class:`Update` objects a model declares and the
:class:`StepContext` its losses draw from. Nothing here imports :mod:`genzoo.models`."""

from .compile import Compile, compile_spec
from .loop import LOG_INTERVAL, check_log_interval, fit_model, resolve_device, total_steps, train
from .packed import check_packable, fit_seeds
from .schedule import Phase, Progress, Schedule
from .step import StepContext, Update

__all__ = ["Compile", "LOG_INTERVAL", "Phase", "Progress", "Schedule", "StepContext", "Update", "check_log_interval",
           "check_packable", "compile_spec", "fit_model", "fit_seeds", "resolve_device", "total_steps", "train"]
