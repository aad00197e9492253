"""Deterministic training of the evaluator CNN on the Fashion-MNIST train split."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .network import FashionCNN


@dataclass(frozen=True)
class TrainConfig:
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
    """Random per-image translation (zero fill) and horizontal flip. x: (B, 1, H, W)."""
    b, _, h, w = x.shape
    if shift:
        padded = nn.functional.pad(x, (shift,) * 4)                        # (B, 1, H+2s, W+2s)
        dy = torch.randint(0, 2 * shift + 1, (b,), generator=g)
        dx = torch.randint(0, 2 * shift + 1, (b,), generator=g)
        rows = (dy[:, None] + torch.arange(h))[:, :, None]                 # (B, H, 1)
        cols = (dx[:, None] + torch.arange(w))[:, None, :]                 # (B, 1, W)
        x = padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)  # (B, 1, H, W)
    if hflip:
        flip = torch.rand(b, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


@torch.no_grad()
def accuracy(model: FashionCNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000,
             device: str | torch.device = "cpu") -> float:
    """Share of images whose argmax logit is the label. x: (N, 1, 28, 28) in [0, 1]."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        pred = model.logits(x[i:i + batch_size].to(device)).argmax(-1).cpu()
        correct += int((pred == y[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / len(x)


def _lr_factor(step: int, steps_per_epoch: int, total: int) -> float:
    warm = steps_per_epoch
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def train_evaluator(cfg: TrainConfig = TrainConfig(), *, threads: int | None = 1, device: str = "cpu",
                    progress: bool = True, data_dir=None) -> tuple[FashionCNN, dict]:
    """Train the evaluator from scratch; returns the model (eval mode, on CPU) and a summary dict."""
    from genzoo.data import load

    train, test = load("fashion-mnist", "train", data_dir=data_dir), load("fashion-mnist", "test", data_dir=data_dir)
    start = time.perf_counter()
    with _deterministic(threads if device == "cpu" else None):
        torch.manual_seed(cfg.seed)
        g = torch.Generator().manual_seed(cfg.seed)
        model = FashionCNN(cfg.width, cfg.num_features, dropout=cfg.dropout).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                              weight_decay=cfg.weight_decay, nesterov=True)
        steps_per_epoch = len(train) // cfg.batch_size          # drop the last partial batch
        total = cfg.epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, steps_per_epoch, total))
        bar = tqdm(total=total, desc="evaluator", unit="step", disable=not progress)
        model.train()
        for epoch in range(cfg.epochs):
            order = torch.randperm(len(train), generator=g)
            for i in range(steps_per_epoch):
                idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                xb = augment(train.x[idx], cfg.shift, cfg.hflip, g).to(device)   # (B, 1, 28, 28)
                loss = nn.functional.cross_entropy(model.logits(xb), train.y[idx].to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                bar.update()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
        bar.close()
        model.eval()
        acc = accuracy(model, test.x, test.y, device=device)
    model = model.cpu().requires_grad_(False)
    info = {"config": asdict(cfg), "test_accuracy": acc, "train_time_s": time.perf_counter() - start,
            "threads": torch.get_num_threads() if threads is None else threads, "device": device,
            "torch": torch.__version__}
    return model, info


def save_weights(model: FashionCNN, path: str | os.PathLike, info: dict) -> str:
    """Write the weights as safetensors (atomically) and return the file's sha256."""
    from safetensors.torch import save

    from ..._io import write_bytes

    path = Path(path)
    # one metadata entry holding sorted JSON: safetensors writes several entries in an arbitrary
    # order, which would make the file's bytes (and sha256) differ between identical runs
    meta = {"genzoo": json.dumps({"test_accuracy": round(info["test_accuracy"], 4), "torch": info["torch"],
                                  **info["config"]}, sort_keys=True)}
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    write_bytes(path, save(state, metadata=meta))
    return hashlib.sha256(path.read_bytes()).hexdigest()
