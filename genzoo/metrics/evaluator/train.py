"""Deterministic training of an evaluator CNN on its dataset's train split (seeded, a fixed thread
count, deterministic kernels: the same file, bit for bit, on the same machine and torch)."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ...data import as_float
from .network import EvaluatorCNN
from .specs import EvaluatorSpec, evaluator_spec


@dataclass(frozen=True)
class TrainConfig:
    """A training run's settings; :func:`config_for` fills in an evaluator's recipe."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05           # peak SGD learning rate (1 epoch linear warm-up, then cosine to 0)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    shift: int = 2             # random translation of up to +-shift pixels
    hflip: bool = True         # random horizontal flip
    width: int = 20
    num_features: int = 128
    dropout: float = 0.2
    seed: int = 0


def config_for(spec: EvaluatorSpec, **overrides) -> TrainConfig:
    """The training settings of ``spec``'s recipe, with ``overrides`` (those that are not None)."""
    base = {"epochs": spec.epochs, "width": spec.width, "lr": spec.lr, "shift": spec.shift, "hflip": spec.hflip}
    return TrainConfig(**{**base, **{k: v for k, v in overrides.items() if v is not None}})


@contextmanager
def _deterministic(threads: int | None):
    """Deterministic kernels and a fixed thread count for the duration of training."""
    old_det, old_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def augment(x: torch.Tensor, shift: int, hflip: bool, g: torch.Generator) -> torch.Tensor:
    """Random per-image translation (zero fill) and horizontal flip. x: (B, C, H, W)."""
    b, _, h, w = x.shape
    if shift:
        padded = nn.functional.pad(x, (shift,) * 4)                        # (B, C, H+2s, W+2s)
        dy = torch.randint(0, 2 * shift + 1, (b,), generator=g)
        dx = torch.randint(0, 2 * shift + 1, (b,), generator=g)
        rows = (dy[:, None] + torch.arange(h))[:, :, None]                 # (B, H, 1)
        cols = (dx[:, None] + torch.arange(w))[:, None, :]                 # (B, 1, W)
        x = padded[torch.arange(b)[:, None, None], :, rows, cols]          # (B, H, W, C)
        x = x.permute(0, 3, 1, 2).contiguous()                             # (B, C, H, W)
    if hflip:
        flip = torch.rand(b, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


def targets_of(data, spec: EvaluatorSpec) -> torch.Tensor:
    """What the evaluator learns from ``data``: its labels (N,) or its attributes (N, A)."""
    if spec.has_classes:
        return data.y
    attributes = data.meta.get("attributes")
    if attributes is None:
        raise ValueError(f"the {spec.name} evaluator learns {data.name}'s attributes, but its {data.split} "
                         f"split has no meta['attributes']")
    return attributes


def _predict(model: EvaluatorCNN, x: torch.Tensor) -> torch.Tensor:
    """The class (N,), or each attribute as 0/1 (N, A)."""
    logits = model.logits(x)
    return (logits > 0).long() if model.multilabel else logits.argmax(-1)


@torch.no_grad()
def accuracy(model: EvaluatorCNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             device: str | torch.device = "cpu") -> float:
    """Share of images whose argmax logit is the label ``y`` (N,); for an attribute classifier,
    share of attributes ``y`` (N, A) in {0, 1} it gets right (logit > 0 is 1), over all images.
    x: images (N, C, H, W), uint8 or float in [0, 1]."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        pred = _predict(model, as_float(x[i:i + batch_size].to(device))).cpu()
        correct += int((pred == y[i:i + batch_size].long()).sum())
    model.train(was_training)
    return correct / y.numel()


def pixel_stats(x: torch.Tensor, rows: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of images (N, C, H, W) in [0, 1], in float64, a block at a time."""
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    square = torch.zeros(x.shape[1], dtype=torch.float64)
    for i in range(0, len(x), rows):
        block = as_float(x[i:i + rows]).double()
        total += block.sum(dim=(0, 2, 3))
        square += block.square().sum(dim=(0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (square / count - mean.square()).clamp_min(1e-12).sqrt()
    return tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std)


def _lr_factor(step: int, steps_per_epoch: int, total: int) -> float:
    warm = steps_per_epoch
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def fit(spec: EvaluatorSpec, train, test, cfg: TrainConfig | None = None, *, threads: int | None = 1,
        device: str = "cpu", progress: bool = True) -> tuple[EvaluatorCNN, dict]:
    """Train ``spec``'s network from scratch on the Dataset ``train`` (images uint8 or float in
    [0, 1], converted a batch at a time) and measure it on ``test``; returns the model (eval mode,
    on CPU) and a summary dict (``config``, ``test_accuracy``, ``train_time_s``, ...)."""
    cfg = config_for(spec) if cfg is None else cfg
    channels, size = train.shape[0], train.shape[-1]
    y_train, y_test = targets_of(train, spec), targets_of(test, spec)
    outputs = y_train.shape[1] if y_train.dim() == 2 else train.num_classes
    mean, std = ((spec.pixel_stats[0],), (spec.pixel_stats[1],)) if spec.pixel_stats else pixel_stats(train.x)
    batch = min(cfg.batch_size, len(train))
    start = time.perf_counter()
    # enable_grad: scoring (under no_grad) trains an evaluator it needs on first use
    with _deterministic(threads if device == "cpu" else None), torch.enable_grad():
        torch.manual_seed(cfg.seed)
        g = torch.Generator().manual_seed(cfg.seed)
        model = EvaluatorCNN(cfg.width, cfg.num_features, outputs, dropout=cfg.dropout, in_channels=channels,
                             size=size, pixel_mean=mean, pixel_std=std, multilabel=not spec.has_classes).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                              weight_decay=cfg.weight_decay, nesterov=True)
        steps_per_epoch = max(1, len(train) // batch)           # drop the last partial batch
        total = cfg.epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, steps_per_epoch, total))
        bar = tqdm(total=total, desc=f"{spec.name} evaluator", unit="step", disable=not progress)
        model.train()
        for epoch in range(cfg.epochs):
            order = torch.randperm(len(train), generator=g)
            for i in range(steps_per_epoch):
                idx = order[i * batch:(i + 1) * batch]
                xb = augment(as_float(train.x[idx]), cfg.shift, cfg.hflip, g).to(device)   # (B, C, H, W)
                out = model.logits(xb)
                target = y_train[idx].to(device)
                loss = (nn.functional.binary_cross_entropy_with_logits(out, target.float()) if model.multilabel
                        else nn.functional.cross_entropy(out, target))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                bar.update()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
        bar.close()
        model.eval()
        acc = accuracy(model, test.x, y_test, device=device)
    model = model.cpu().requires_grad_(False)
    info = {"evaluator": spec.name, "config": asdict(cfg), "test_accuracy": acc,
            "train_time_s": time.perf_counter() - start,
            "threads": torch.get_num_threads() if threads is None else threads, "device": device,
            "torch": torch.__version__}
    return model, info


def train_evaluator(cfg: TrainConfig | None = None, *, evaluator: str = "fashion-mnist", threads: int | None = 1,
                    device: str = "cpu", progress: bool = True, data_dir=None) -> tuple[EvaluatorCNN, dict]:
    """Train evaluator ``evaluator`` from scratch on its dataset's train split (read with
    ``genzoo.data.load(..., data_dir=data_dir)``), tested on its test split: :func:`fit`."""
    from genzoo.data import load

    spec = evaluator_spec(evaluator)
    train, test = load(spec.dataset, "train", data_dir=data_dir), load(spec.dataset, "test", data_dir=data_dir)
    return fit(spec, train, test, cfg, threads=threads, device=device, progress=progress)
