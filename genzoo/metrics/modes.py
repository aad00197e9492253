"""Mode coverage: which classes / modes the samples hit, and how evenly.

Definitions (documented here once, used by ``score``):

A dataset whose modes are its classes (``mode_count == "classes"``: Fashion-MNIST, MNIST, CIFAR-10;
K classes, labels from the evaluator's softmax):
- ``class_frac_k``: share of samples whose argmax class is k (sums to 1).
- ``mode_kl``: KL(class histogram || uniform) = sum_k p_k ln(K p_k); 0 when balanced, ln K when
  every sample is one class.
- ``low_confidence``: share of samples whose top softmax probability is below ``confidence`` (0.5):
  images the evaluator cannot place in any class.
- ``classes_covered``: classes k that at least ``min_share`` (1%) of all samples are *confidently*
  (top probability >= 0.5) classified as. 1% is a tenth of a class's share in the balanced data, so a
  class counts once the model makes it at a tenth of its real rate; confusable junk does not count.

Stacked datasets (``mode_count == "stacked"``: Stacked MNIST, Stacked Fashion-MNIST), 1000 modes
(VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018):
- each channel is labelled by the evaluator's argmax; mode = 100 c0 + 10 c1 + c2.
- ``modes_covered``: modes with at least one sample; ``mode_kl``: KL(mode histogram || uniform).

2-D mixtures (ring of 8, grid of 25; VEEGAN / PacGAN):
- ``high_quality``: share of samples strictly within ``n_std`` (3) standard deviations of their
  nearest mean (distance < 3 std, as PacGAN's code counts; a sample at exactly 3 std is not high
  quality). Distances are exact float64 differences, not float32 (in float32 a sample at 3.00016
  std was counted).
- ``modes_covered``: means that have at least one high-quality sample as nearest.
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics import Metric


def kl_to_uniform(counts: torch.Tensor) -> float:
    """KL(p || uniform) of a histogram of counts (K,), with 0 ln 0 = 0."""
    p = counts.double() / counts.sum()
    nz = p > 0
    return float((p[nz] * (p[nz] * len(p)).log()).sum())


class _CountMetric(Metric):
    is_differentiable = False
    full_state_update = False

    def __init__(self, classifier: nn.Module | None = None, **kwargs):
        super().__init__(**kwargs)
        self.classifier = classifier

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x) if self.classifier is not None else x


class ClassCoverage(_CountMetric):
    """Class histogram, coverage, KL to uniform and low-confidence share (see module docstring).

    ``update(x)`` takes images when ``classifier`` (images -> logits (N, K)) is given, else logits.
    """

    def __init__(self, classifier: nn.Module | None = None, num_classes: int = 10,
                 confidence: float = 0.5, min_share: float = 0.01, **kwargs):
        super().__init__(classifier, **kwargs)
        self.num_classes, self.confidence, self.min_share = num_classes, confidence, min_share
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("confident", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("unsure", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, x: torch.Tensor) -> None:
        prob = self._logits(x).float().softmax(dim=-1)             # (N, K)
        top, label = prob.max(dim=-1)                              # (N,), (N,)
        sure = top >= self.confidence
        self.counts += torch.bincount(label, minlength=self.num_classes)
        self.confident += torch.bincount(label[sure], minlength=self.num_classes)
        self.unsure += (~sure).sum()

    def compute(self) -> dict[str, float]:
        total = int(self.counts.sum())
        if total == 0:
            raise ValueError("ClassCoverage: no samples")
        out = {f"class_frac_{k}": float(c) / total for k, c in enumerate(self.counts.tolist())}
        out["classes_covered"] = float(int((self.confident >= self.min_share * total).sum()))
        out["mode_kl"] = kl_to_uniform(self.counts)
        out["low_confidence"] = float(self.unsure) / total
        return out


class StackedModeCoverage(_CountMetric):
    """Modes of stacked images: ``update(x)`` takes images (N, C, H, W) with a per-channel
    ``classifier`` returning (N, C, K), or such logits directly. K**C modes."""

    def __init__(self, classifier: nn.Module | None = None, channels: int = 3, num_classes: int = 10,
                 **kwargs):
        super().__init__(classifier, **kwargs)
        self.channels, self.num_classes = channels, num_classes
        self.add_state("counts", torch.zeros(num_classes ** channels, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, x: torch.Tensor) -> None:
        labels = self._logits(x).argmax(dim=-1)                    # (N, C)
        place = self.num_classes ** torch.arange(self.channels - 1, -1, -1, device=labels.device)
        mode = (labels * place).sum(dim=1)                         # (N,) = 100 c0 + 10 c1 + c2
        self.counts += torch.bincount(mode, minlength=len(self.counts))

    def compute(self) -> dict[str, float]:
        if int(self.counts.sum()) == 0:
            raise ValueError("StackedModeCoverage: no samples")
        return {"modes_covered": float(int((self.counts > 0).sum())), "mode_kl": kl_to_uniform(self.counts)}


class PointModeCoverage(Metric):
    """High-quality share and modes covered of 2-D samples around known ``means`` (K, 2)."""

    is_differentiable = False
    full_state_update = False
    higher_is_better = True

    def __init__(self, means: torch.Tensor, std: float, n_std: float = 3.0, **kwargs):
        super().__init__(**kwargs)
        self.register_buffer("means", torch.as_tensor(means, dtype=torch.float64))
        self.n_std, self.radius = n_std, n_std * float(std)
        self.add_state("hits", torch.zeros(len(self.means), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, x: torch.Tensor) -> None:
        # float64, exact differences (no |a|^2 + |b|^2 - 2 a.b expansion): (N, K)
        d = torch.cdist(x.double(), self.means.double(), compute_mode="donot_use_mm_for_euclid_dist")
        dist, nearest = d.min(dim=1)
        good = dist < self.radius                                  # strictly under n_std std (PacGAN)
        self.hits += torch.bincount(nearest[good], minlength=len(self.means))
        self.total += len(x)

    def compute(self) -> dict[str, float]:
        if int(self.total) == 0:
            raise ValueError("PointModeCoverage: no samples")
        return {"modes_covered": float(int((self.hits > 0).sum())),
                "high_quality": float(self.hits.sum()) / float(self.total)}


@torch.no_grad()
def per_class_accuracy(samples: torch.Tensor, labels: torch.Tensor, class_names=None,
                       batch_size: int = 500, *, reference=None, data_dir=None) -> dict[str, dict[str, float]]:
    """For a conditional model: share of samples generated for class k that the evaluator labels k.

    samples: (N, C, H, W), uint8 or float in [0, 1]; labels: (N,) the classes they were generated
    for. The evaluator is the one ``reference``'s declaration names (trained on first use, as
    ``score`` does; ``data_dir``: where its data is); {} when it has none that counts classes of
    one image per item (``mode_count`` "classes"). Without ``reference``: the shipped Fashion-MNIST
    evaluator. Returns ``{class_name: {"accuracy": float, "n": float}}``.
    """
    from ..data import as_float
    from .evaluator import evaluator, get_evaluator
    from .plan import evaluator_data_dir, plan_for

    if reference is None:
        net = evaluator()
    else:
        plan = plan_for(reference)
        if not plan.evaluator or plan.mode_count != "classes" or "is" not in plan.applicable:
            return {}
        net = get_evaluator(plan.evaluator, data_dir=evaluator_data_dir(plan, reference, data_dir),
                            progress=False).network
    pred = torch.cat([net.logits(as_float(samples[i:i + batch_size])).argmax(-1)
                      for i in range(0, len(samples), batch_size)])
    names = class_names or [str(k) for k in range(net.num_classes)]
    out = {}
    for k, name in enumerate(names):
        mine = labels == k
        if int(mine.sum()):
            out[name] = {"accuracy": float((pred[mine] == k).float().mean()), "n": float(mine.sum())}
    return out
