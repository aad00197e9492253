"""Feature networks as modules torchmetrics can call, sharing one forward pass per batch.

A :class:`FeatureNet` turns images into ``(features, logits)``. Several metrics consume the same
batch (FID and KID need features, IS and the mode metrics need logits), so the net's output for
the most recent batch is kept and reused while the same, unmodified tensor comes back; the
module views :meth:`FeatureNet.features_module` and :meth:`FeatureNet.logits_module` are what
``feature=`` of torchmetrics' metrics receive.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data import as_float


class FeatureNet(nn.Module):
    """Wraps ``net`` whose ``features_and_logits(x)`` returns ``(N, D)`` and ``(N, ...)`` tensors.

    ``name`` identifies the network in cache keys; ``dim`` is D; ``sha256`` is that of its weights
    file, when it has one.
    """

    def __init__(self, net: nn.Module, name: str, dim: int, batch_size: int = 500, sha256: str | None = None):
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.name, self.dim, self.batch_size, self.sha256 = name, dim, batch_size, sha256
        self._last: tuple | None = None      # (input tensor, its _version, (features, logits))

    def train(self, mode: bool = True) -> "FeatureNet":
        return super().train(False)          # always inference: BN running stats, no dropout

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: images (N, C, H, W), uint8 or float in [0, 1] -> (features (N, D), logits)."""
        last = self._last
        if last is not None and last[0] is x and last[1] == x._version:
            return last[2]
        out = self.net.features_and_logits(as_float(x.to(self.device)))
        self._last = (x, x._version, out)    # holding x keeps its id from being reused
        return out

    def forget(self) -> None:
        self._last = None

    def features_module(self) -> "_View":
        return _View(self, 0, self.dim)

    def logits_module(self) -> "_View":
        return _View(self, 1, None)

    def extract(self, x: torch.Tensor, desc: str | None = None, progress: bool = True,
                logits: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features (and logits) of many images (uint8 or float in [0, 1], converted a batch at a
        time), in batches, on the CPU."""
        feats, outs = [], []
        for i in tqdm(range(0, len(x), self.batch_size), desc=desc, unit="batch",
                      disable=not progress or len(x) <= self.batch_size, leave=False):
            f, lg = self(x[i:i + self.batch_size])
            feats.append(f.float().cpu())
            if logits:
                outs.append(lg.float().cpu())
        self.forget()
        return torch.cat(feats), (torch.cat(outs) if logits else None)


class _View(nn.Module):
    """One of FeatureNet's two outputs, as the ``feature=`` module of a torchmetrics metric."""

    def __init__(self, shared: FeatureNet, index: int, num_features: int | None):
        super().__init__()
        self.shared = shared
        self.index = index
        if num_features is not None:
            self.num_features = num_features   # FID reads it instead of probing with a dummy input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shared(x)[self.index]


def evaluator_net(ev, channels: int, device: str | torch.device = "cpu") -> FeatureNet:
    """The evaluator ``ev`` (a :class:`genzoo.metrics.evaluator.Evaluator`) for images with
    ``channels`` channels, k = channels / its input channels images per item (Stacked MNIST: 3
    digits): features ``(N, k * d)``, logits ``(N, K)`` or ``(N, k, K)``."""
    net = ev.network
    if torch.device(device) != torch.device("cpu"):
        net = copy.deepcopy(net).to(device)   # the cached CPU instance stays untouched
    return FeatureNet(net, ev.id, channels // net.in_channels * net.num_features, sha256=ev.sha256)
