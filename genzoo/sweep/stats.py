"""The "FID against budget" curve of Lucic et al. 2018: the best FID a practitioner can expect
from k random trials, for k = 1..K, with a bootstrap interval."""

from __future__ import annotations

import numpy as np


def expected_best(values, k: int, *, lower_is_better: bool = True) -> float:
    """The expected best of ``k`` trials drawn with replacement from ``values`` (exact: the i-th best
    of n is the best of k draws with probability ((n - i + 1)^k - (n - i)^k) / n^k)."""
    v = np.sort(np.asarray(values, dtype=float))
    if not lower_is_better:
        v = v[::-1]
    n = len(v)
    if n == 0 or k < 1:
        raise ValueError("expected_best needs at least one value and k >= 1")
    above = (n - np.arange(n)) / n                          # P(a draw is the i-th best or worse)
    p = above ** k - np.append(above[1:], 0.0) ** k
    return float(p @ v)


def budget_curve(values, k_max: int | None = None, *, lower_is_better: bool = True, n_boot: int = 1000,
                 level: float = 0.95, seed: int = 0) -> list[dict]:
    """One row per k = 1..k_max (default: the number of values): the expected best and a percentile
    bootstrap interval over resamples of the trials (a fixed ``seed``: the same curve every time)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return []
    k_max = k_max or len(v)
    rng = np.random.default_rng(seed)
    boots = [rng.choice(v, size=len(v), replace=True) for _ in range(n_boot)]
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for k in range(1, k_max + 1):
        dist = np.array([expected_best(b, k, lower_is_better=lower_is_better) for b in boots])
        rows.append({"k": k, "expected_best": expected_best(v, k, lower_is_better=lower_is_better),
                     "low": float(np.quantile(dist, lo_q)), "high": float(np.quantile(dist, hi_q))})
    return rows
