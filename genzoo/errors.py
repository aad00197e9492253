"""genzoo's exception types."""


class UserError(Exception):
    """Bad input from the user: the command line prints the message as one line, without a traceback."""


class NotFittedError(ValueError):
    """``sample`` (or another fitted-state method) was called before ``fit``."""


class DivergenceError(RuntimeError):
    """Training produced a NaN or infinite loss."""

    def __init__(self, step: int, losses: dict, history: list | None = None):
        self.step = step
        self.losses = dict(losses)
        self.history = list(history or [])      # the steps before the bad one (the model keeps none)
        bad = ", ".join(f"{k}={v}" for k, v in losses.items() if v != v or v in (float("inf"), float("-inf")))
        super().__init__(f"training diverged at step {step}: {bad}")


class DataError(UserError):
    """Data on disk is missing, truncated or not what it claims to be; the message names the file."""


class CheckpointError(UserError, ValueError):
    """A saved model folder (``config.json`` + ``model.safetensors``) cannot be loaded; the message
    names the file and says why."""


class EnvironmentFailure(RuntimeError):
    """Something outside the run failed (the data, the disk, the GPU): not a result of the run, so
    the benchmark stops without recording it, and the next invocation does it again."""


class BudgetSpent(BaseException):
    """The time a run of the bench was given is spent (``genzoo.gpu --budget``, a bench's
    ``deadline``): no run is started after it, and a run it cuts is not recorded (as under
    Ctrl-C: a BaseException, so that no run takes it for its own failure); the same command
    resumes, doing the runs without a record."""
