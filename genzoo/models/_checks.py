"""What a model checks before any work starts: the data a fit trains on (:func:`check_fit_data`,
which ``GenerativeModel.check_data`` runs), and the ``n`` and ``seed`` of ``sample``.

Every check reads the data at most once (one min / max), draws no random number and changes
nothing, so a fit that passes trains exactly as it did before the checks existed. Each refusal is
one ``ValueError`` line naming the input and what is accepted.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from .. import limits

MIN_ITEMS = limits.MIN_ITEMS


def check_fit_data(model, data, what: str) -> None:
    """The checks of ``model.check_data(data)`` after its kind checks: values, labels, batch size."""
    check_values(data, what)
    if model.conditional:
        check_labels(data, what, model.name)
    check_batch_size(model, data, what)


def check_item_count(data, what: str, model_name: str) -> None:
    n = len(data)
    if n < MIN_ITEMS:
        held = "has no items" if n == 0 else f"has only {n} item"
        raise ValueError(f"{what}: dataset {data.name!r} ({data.split}) {held}; {model_name} needs at least "
                         f"{MIN_ITEMS} items to train on")


def check_values(data, what: str) -> None:
    """Images are uint8 (0..255, what the loaders store: each batch is converted as it is drawn,
    ``genzoo.data.as_float``) or float32 in [0, 1] (the documented range; a NaN passes: the fit
    then diverges at its first step and says so); points are float32, what every network computes
    in. uint8 images are in range by their type: nothing is read."""
    image = data.kind == "image"
    if image and data.x.dtype == torch.uint8:
        return
    if image:
        lo, hi = data.value_range()
        if lo < 0 or hi > 1:
            hint = " (0..255 pixels: divide them by 255, or give them as uint8)" if 1 < hi <= 255 and lo >= 0 else ""
            raise ValueError(f"{what}: image data must lie in [0, 1], the documented range; dataset {data.name!r} "
                             f"({data.split}) holds values from {lo:g} to {hi:g}{hint}")
    if data.x.dtype != torch.float32:
        accepted = "float32 in [0, 1] or uint8 images (0..255)" if image else "float32 points"
        raise ValueError(f"{what}: dataset {data.name!r} ({data.split}) holds x of dtype {data.x.dtype}; "
                         f"genzoo models train on {accepted} (x.float() converts it)")


def check_labels(data, what: str, model_name: str) -> None:
    """A conditional model embeds each label: every one must lie in 0..num_classes - 1."""
    k, y = data.num_classes, data.y
    bad = (y < 0) | (y >= k)
    if bool(bad.any()):
        values = torch.unique(y[bad])
        shown = ", ".join(str(v) for v in values[:5].tolist()) + (", ..." if len(values) > 5 else "")
        raise ValueError(f"{what}: {model_name} is conditioned on the labels, which must lie in 0..{k - 1} "
                         f"(num_classes = {k}); dataset {data.name!r} ({data.split}) has labels outside it: {shown}")


def check_batch_size(model, data, what: str) -> None:
    """The batch must fit in the data, and hold 2 items where a network normalises (batch, features)."""
    bs, n = model.config.batch_size, len(data)
    if bs > n:
        raise ValueError(f"{what}: batch_size = {bs:,} is more than the {n:,} items of dataset {data.name!r} "
                         f"({data.split}): set batch_size to at most {n:,}")
    low = model.min_batch_size(data)
    if bs < low:
        raise ValueError(f"{what}: batch_size = {bs} is too small for {model.name} on {data.kind} data: its batch "
                         f"norm layers need at least {low} items per batch")


def min_batch_size(model, data) -> int:
    """2 when the networks ``model.build`` makes for ``data`` hold a BatchNorm1d (one vector has no
    batch statistics), else 1. The networks are built on the meta device (no memory, no weights)
    under a forked RNG: nothing is drawn, nothing is kept. A build that the meta device cannot do
    says nothing here (1): the real build reports its own error."""
    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            nets = model.build(tuple(data.shape), data.num_classes)
    except Exception:        # noqa: BLE001 - a probe only
        return 1
    return 2 if any(isinstance(m, nn.BatchNorm1d) for m in nets.modules()) else 1


def check_n(n, item_numel: int, model_name: str, what: str = "sample") -> int:
    """``n`` as an int, or ValueError: a non-negative integer, at most ``limits.max_samples`` items
    of ``item_numel`` float32 values (what one call may allocate)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{what}: n must be a non-negative integer, got {n!r}")
    top = limits.max_samples(item_numel)
    if n > top:
        raise ValueError(f"{what}: n must be at most {top:,} for this {model_name} (items of {item_numel:,} float32 "
                         f"values; one call returns at most {limits.MAX_SAMPLE_BYTES / 2**30:g} GiB), got {n:,}: "
                         f"draw them in several calls")
    return int(n)


def item_numel(shape: tuple[int, ...], latent_dim: int) -> int:
    """float32 values one sampled item takes: its output, or its latent code where that is larger
    (the codes of a whole call are drawn at once)."""
    return max(math.prod(shape), int(latent_dim))
