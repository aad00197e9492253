"""genzoo's exception types."""


class UserError(Exception):
    """Bad input from the user: the command line prints the message as one line, without a traceback."""


class NotFittedError(ValueError):
    """``sample`` (or another fitted-state method) was called before ``fit``."""


class DivergenceError(RuntimeError):
    """Training produced a NaN or infinite loss."""

    def __init__(self, step: int, losses: dict):
        self.step = step
        self.losses = dict(losses)
        bad = ", ".join(f"{k}={v}" for k, v in losses.items() if v != v or v in (float("inf"), float("-inf")))
        super().__init__(f"training diverged at step {step}: {bad}")
