"""Precision / recall (Kynkaanniemi et al. 2019) and density / coverage (Naeem et al. 2020).

All four compare k-nearest-neighbour balls in a feature space: ``B(x, r_k(x))`` is the ball around
a point whose radius is the distance to its k-th nearest neighbour in its own set.

- precision: share of fake points inside some real ball (k = 3)
- recall:    share of real points inside some fake ball (k = 3)
- density:   number of real balls containing a fake point, averaged over fakes, divided by k (k = 5)
- coverage:  share of real balls that contain at least one fake point (k = 5)

Arithmetic: every distance and radius is computed in float64 (as the ``prdc`` package does:
scikit-learn's ``pairwise_distances`` works in float64), whatever the inputs' dtype. In float32 the
k-NN radii of a collapsed sample set (points closer than float32's resolution of squared norms)
round to exactly 0. Points of up to ``EXACT_DIMS`` coordinates (the 2-D mixtures) get exact
differences (``torch.cdist`` without the matrix-product expansion); features get the expansion
``|a|^2 + |b|^2 - 2 a.b``, as scikit-learn computes them.

Balls are closed: a point at distance d of a centre with radius r is inside when ``d <= r``, as in
Kynkaanniemi et al.'s definition and reference code (``distance <= radius``). The ``prdc`` package
(clovaai/generative-evaluation-prdc) uses open balls (``distance < radius``); the two agree except
where a distance equals a radius exactly, i.e. for duplicated points (a radius of 0 is an empty ball
for prdc and a point for us).

Distances are computed in row chunks with ``torch.cdist`` so memory stays O(chunk * N) (a 1024 x
10,000 float64 block is 80 MB).
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

CHUNK = 1024
EXACT_DIMS = 8       # up to this many coordinates, distances from exact differences (no a.b expansion)


def distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(c, d), (N, d) -> (c, N) Euclidean distances in float64."""
    mode = "donot_use_mm_for_euclid_dist" if a.shape[1] <= EXACT_DIMS else "use_mm_for_euclid_dist"
    return torch.cdist(a.double(), b.double(), compute_mode=mode)


def knn_radii(x: torch.Tensor, k: int, chunk: int = CHUNK) -> torch.Tensor:
    """(N, d) -> (N,) float64 distance of each point to its k-th nearest other point of x."""
    if len(x) <= k:
        raise ValueError(f"k-NN radii with k={k} need more than {k} points, got {len(x)}")
    out = []
    for i in range(0, len(x), chunk):
        d = distances(x[i:i + chunk], x)                          # (c, N), includes the 0 to itself
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(out)


def _ball_counts(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
                 chunk: int = CHUNK) -> tuple[torch.Tensor, torch.Tensor]:
    """For each point: how many balls (centres, radii) contain it, (M,); for each ball: whether
    any point lies inside it, (N,) bool."""
    counts, hit = [], torch.zeros(len(centres), dtype=torch.bool, device=centres.device)
    for i in range(0, len(points), chunk):
        inside = distances(points[i:i + chunk], centres) <= radii[None, :]     # (c, N), closed balls
        counts.append(inside.sum(dim=1))
        hit |= inside.any(dim=0)
    return torch.cat(counts), hit


def _share(mask: torch.Tensor) -> float:
    return int(mask.sum()) / len(mask)          # exact count / n, not a float32 mean


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of fake (M, d) against real (N, d), in float64."""
    real, fake = real.double(), fake.double()
    in_real, _ = _ball_counts(fake, real, knn_radii(real, k))
    in_fake, _ = _ball_counts(real, fake, knn_radii(fake, k))
    return _share(in_real > 0), _share(in_fake > 0)


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """(density, coverage) of fake (M, d) against real (N, d), in float64."""
    real, fake = real.double(), fake.double()
    counts, hit = _ball_counts(fake, real, knn_radii(real, k))
    return int(counts.sum()) / (k * len(fake)), _share(hit)


class _ManifoldMetric(Metric):
    """Buffers real and fake features; ``feature`` (optional) maps inputs to features first."""

    is_differentiable = False
    full_state_update = False

    def __init__(self, feature: nn.Module | None = None, k: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.feature = feature
        self.k = k
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, x: torch.Tensor, real: bool) -> None:
        """x: inputs of ``feature`` (images), or features (N, d) when there is no ``feature``."""
        f = self.feature(x) if self.feature is not None else x
        (self.real_features if real else self.fake_features).append(f.double())

    def update_features(self, f: torch.Tensor, real: bool) -> None:
        """Add features (N, d) directly, bypassing ``feature`` (e.g. cached real features)."""
        (self.real_features if real else self.fake_features).append(f.double())

    def _sets(self) -> tuple[torch.Tensor, torch.Tensor]:
        return dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)


class PrecisionRecall(_ManifoldMetric):
    """Improved precision and recall (Kynkaanniemi et al. 2019); ``compute()`` -> dict."""

    higher_is_better = True

    def __init__(self, feature: nn.Module | None = None, k: int = 3, **kwargs):
        super().__init__(feature, k, **kwargs)

    def compute(self) -> dict[str, float]:
        p, r = precision_recall(*self._sets(), k=self.k)
        return {"precision": p, "recall": r}


class DensityCoverage(_ManifoldMetric):
    """Density and coverage (Naeem et al. 2020); ``compute()`` -> dict."""

    higher_is_better = True

    def __init__(self, feature: nn.Module | None = None, k: int = 5, **kwargs):
        super().__init__(feature, k, **kwargs)

    def compute(self) -> dict[str, float]:
        d, c = density_coverage(*self._sets(), k=self.k)
        return {"density": d, "coverage": c}
