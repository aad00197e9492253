"""The dimensions of a hyper-parameter search space (Lucic et al. 2018, compare_gan v1): what a
model declares next to itself (its ``sweep_space``) with :func:`log_uniform`, :func:`uniform`,
:func:`choice` and :func:`fixed`.

A leaf module (the standard library only): the models import it without importing
:mod:`genzoo.sweep`, which draws the trials (:mod:`genzoo.sweep.space`) and imports the models.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dim:
    """One searched hyper-parameter: one value per trial, written to every config field of ``keys``
    (G and D share their learning rate and beta1, as in compare_gan)."""

    keys: tuple[str, ...]
    kind: str                       # "log_uniform" (``low``/``high`` are exponents of 10), "uniform", "choice"
    low: float = 0.0
    high: float = 0.0
    choices: tuple = ()

    def draw(self, rng):
        """One value, drawn from ``rng`` (a ``numpy.random.Generator``)."""
        if self.kind == "log_uniform":
            return float(10 ** rng.uniform(self.low, self.high))
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        return self.choices[int(rng.integers(len(self.choices)))]

    def describe(self) -> str:
        if self.kind == "log_uniform":
            return f"log-uniform 10^[{self.low:g}, {self.high:g}]"
        if self.kind == "uniform":
            return f"uniform [{self.low:g}, {self.high:g}]"
        if len(self.choices) == 1:
            return f"fixed {self.choices[0]!r}"
        return "one of {" + ", ".join(repr(c) for c in self.choices) + "}"


def log_uniform(*keys: str, low: float, high: float) -> Dim:
    return Dim(tuple(keys), "log_uniform", low, high)


def uniform(*keys: str, low: float, high: float) -> Dim:
    return Dim(tuple(keys), "uniform", low, high)


def choice(*keys: str, values: tuple) -> Dim:
    return Dim(tuple(keys), "choice", choices=tuple(values))


def fixed(*keys: str, value) -> Dim:
    return choice(*keys, values=(value,))


__all__ = ["Dim", "choice", "fixed", "log_uniform", "uniform"]
