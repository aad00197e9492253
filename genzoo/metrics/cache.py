"""On-disk cache of real-data statistics under ``$GENZOO_CACHE/stats`` (default ``~/.cache/genzoo``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch


def stats_dir() -> Path:
    root = Path(os.environ.get("GENZOO_CACHE", Path.home() / ".cache" / "genzoo"))
    return root / "stats"


def content_digest(x: torch.Tensor) -> str:
    """sha256 of a tensor's bytes: the key part that tells two reference sets apart."""
    return hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def stats_path(dataset: str, split: str, network: str, n: int, digest: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{dataset}-{split}-{network}")
    return stats_dir() / f"{safe}-n{n}-{digest[:16]}.safetensors"


def load_stats(path: Path) -> dict[str, torch.Tensor] | None:
    """The cached tensors, or None when absent or unreadable (then they are recomputed)."""
    from safetensors.torch import load_file

    if not path.is_file():
        return None
    try:
        return load_file(str(path))
    except Exception:      # a file from an interrupted older writer, or foreign junk: recompute
        return None


def save_stats(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Write atomically (:func:`genzoo._io.atomic_path`: a temporary file beside it, then renamed)."""
    from safetensors.torch import save

    from .._io import write_bytes

    write_bytes(path, save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}))
