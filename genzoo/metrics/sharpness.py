"""Blur as a number: the variance of the Laplacian of each image, relative to real images."""

from __future__ import annotations

import torch
from torch.nn import functional as F
from torchmetrics import Metric

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def laplacian_variance(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> (N,): per channel, the variance over pixels of the 3x3 Laplacian
    (no padding, so borders add nothing), averaged over channels."""
    c = x.shape[1]
    kernel = _LAPLACIAN.to(x.device, x.dtype).expand(c, 1, 3, 3)
    lap = F.conv2d(x, kernel, groups=c)                          # (N, C, H-2, W-2)
    return lap.flatten(2).var(dim=2, unbiased=False).mean(dim=1)


class Sharpness(Metric):
    """Mean Laplacian variance of the images, divided by ``reference`` (that of real images) when
    given: 1.0 is as sharp as the real data, below 1 blurrier, above 1 noisier or harsher edges."""

    is_differentiable = False
    full_state_update = False
    higher_is_better = None     # best at 1.0, neither direction

    def __init__(self, reference: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.reference = reference
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, x: torch.Tensor) -> None:
        self.total += laplacian_variance(x.float()).double().sum()
        self.count += len(x)

    def compute(self) -> torch.Tensor:
        mean = self.total / self.count
        return mean / self.reference if self.reference else mean
