"""FID, KID and IS through torchmetrics, with real-data features loaded from the cache.

IS (Salimans et al. 2016) is the field's convention: the samples are shuffled (seeded) and cut into
10 splits (torchmetrics' ``chunk``: equal splits but the last); ``is`` is the mean of the splits'
scores and ``is_std`` their standard deviation with ddof=1 (torchmetrics' ``torch.std``; the
original TF code and torch-fidelity use ``np.std``, ddof=0, which is sqrt(9/10) = 0.949 times ours
for 10 splits). Fewer splits only when a split would hold fewer than ``IS_MIN_SPLIT`` (50) samples:
``n // 50`` splits below 500 samples, one (and no ``is_std``) below 100.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

# FID needs a covariance estimate that is not rank deficient: with n samples of d-dim features the
# sample covariance has rank <= n - 1, and the bias of FID shrinks like 1/n (Chong & Forsyth 2020).
# We require n >= FID_MIN_RATIO * d for both sets.
FID_MIN_RATIO = 2
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000      # Binkowski et al. 2018, torchmetrics' defaults
IS_SPLITS = 10                                 # Salimans et al. 2016 (10 splits of 5000)
IS_MIN_SPLIT = 50      # a split's marginal p(y) from fewer samples is too noisy (IS biased low)


class TooFewSamplesError(ValueError):
    """Too few samples for a stable FID estimate."""


def check_fid_samples(n_fake: int, n_real: int, dim: int, name: str = "fid") -> None:
    need = FID_MIN_RATIO * dim
    if min(n_fake, n_real) < need:
        raise TooFewSamplesError(
            f"{name} needs at least {need} samples ({FID_MIN_RATIO} x the {dim}-d feature size) for a "
            f"stable covariance estimate, got {n_fake} samples and {n_real} reference images; "
            f"draw more samples (n=) or use KID ('{name.replace('fid', 'kid')}'), which is unbiased "
            f"at small sample sizes")


class _Identity(nn.Module):
    """A ``feature=`` module for inputs that already are features (N, d)."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@contextmanager
def _quiet():
    with warnings.catch_warnings():     # KID/IS warn that they buffer every feature: we know
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        yield


@contextmanager
def _seeded(seed: int):
    """KID's subsets and IS's splits come from the global RNG: seed it locally, restore after."""
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*degrees of freedom.*")   # std of a single split
        torch.manual_seed(seed)
        yield


def make_fid(feature: nn.Module) -> FrechetInceptionDistance:
    # normalize=True: a custom module gets the float images untouched (no uint8 cast)
    return FrechetInceptionDistance(feature=feature, normalize=True)


def make_kid(feature: nn.Module, n_fake: int, n_real: int) -> KernelInceptionDistance:
    size = min(KID_SUBSET_SIZE, n_fake, n_real)
    if size < 2:
        raise TooFewSamplesError("kid needs at least 2 samples and 2 reference images")
    # when a subset is a whole set, every subset is the same: one is enough (and kid_std is 0)
    subsets = 1 if size == min(n_fake, n_real) else KID_SUBSETS
    with _quiet():
        return KernelInceptionDistance(feature=feature, subsets=subsets, subset_size=size, normalize=True)


def is_splits(n: int) -> int:
    """10 splits, fewer when that would leave under IS_MIN_SPLIT samples in each (at least 1)."""
    return max(1, min(IS_SPLITS, n // IS_MIN_SPLIT))


def split_sizes(n: int, splits: int) -> list[int]:
    """The sizes of the splits torchmetrics cuts n samples into (``chunk``: the last may be smaller)."""
    return [len(c) for c in torch.arange(n).chunk(splits)]


def make_is(logits: nn.Module, n: int) -> InceptionScore:
    # normalize=False: with True, torchmetrics casts to uint8 (x * 255) even for a custom module,
    # and the evaluator would see values 0..255; we pass float images in [0, 1] as they are.
    with _quiet():
        return InceptionScore(feature=logits, splits=is_splits(n), normalize=False)


def load_real_features(metric, feats: torch.Tensor) -> None:
    """Put cached real features (N, d) into a FID or KID metric, as ``update(real=True)`` would."""
    if isinstance(metric, FrechetInceptionDistance):
        f = feats.to(metric.real_features_sum.device, torch.float64)
        metric.real_features_sum += f.sum(dim=0)
        metric.real_features_cov_sum += f.t().mm(f)
        metric.real_features_num_samples += f.shape[0]
    elif isinstance(metric, KernelInceptionDistance):
        metric.real_features.append(feats.to(metric.device))
    else:
        raise TypeError(f"cannot load real features into {type(metric).__name__}")


def compute_kid(metric: KernelInceptionDistance, seed: int = 0) -> tuple[float, float]:
    """(KID mean over subsets, std over subsets; NaN for a single subset)."""
    with _seeded(seed):
        mean, std = metric.compute()
    return float(mean), (float(std) if metric.subsets > 1 else float("nan"))


def compute_is(metric: InceptionScore, seed: int = 0) -> tuple[float, float]:
    """(IS mean over splits, std (ddof=1) over splits; NaN for a single split)."""
    with _seeded(seed):
        mean, std = metric.compute()
    return float(mean), (float(std) if metric.splits > 1 else float("nan"))


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets (N, d) and (M, d), by torchmetrics' formula."""
    fid = make_fid(_Identity(real.shape[1]))
    load_real_features(fid, real)
    fid.update(fake, real=False)
    return float(fid.compute())


def kernel_distance(real: torch.Tensor, fake: torch.Tensor, seed: int = 0) -> tuple[float, float]:
    """KID (mean, std over subsets) between two feature sets."""
    kid = make_kid(_Identity(real.shape[1]), len(fake), len(real))
    load_real_features(kid, real)
    kid.update(fake, real=False)
    return compute_kid(kid, seed)
