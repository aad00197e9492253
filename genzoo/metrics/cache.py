"""On-disk cache of real-data statistics under ``$GENZOO_CACHE/stats`` (default ``~/.cache/genzoo``).

A cache file is tamper-evident: its safetensors metadata holds the full sha256 of the reference
images it was computed from (the file name holds only a prefix), the network's name, and the sha256
of its own tensors (names, dtypes, shapes and bytes). :func:`load_stats` checks all three; a file that
fails, or one without them (written by an older genzoo), is reported and recomputed by the caller.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

FORMAT = "genzoo-reference-stats/2"

# load_stats statuses: "ok" is usable, every other one means recompute
ABSENT, UNREADABLE, UNHASHED, CHANGED, OTHER_SOURCE = "absent", "unreadable", "unhashed", "changed", "other source"


def stats_dir() -> Path:
    from ..data import cache_root

    return cache_root() / "stats"


def content_digest(x: torch.Tensor, rows: int = 4096) -> str:
    """sha256 of a tensor's bytes: the key part that tells two reference sets apart (a uint8 set
    and its float copy differ). Hashed a block of rows at a time: no copy of a large set."""
    h = hashlib.sha256()
    x = x.detach().cpu()
    if x.dim() == 0:
        x = x.reshape(1)
    for i in range(0, len(x), rows):
        h.update(x[i:i + rows].contiguous().numpy())
    return h.hexdigest()


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 of named tensors: each name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def stats_path(dataset: str, split: str, network: str, n: int, digest: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{dataset}-{split}-{network}")
    return stats_dir() / f"{safe}-n{n}-{digest[:16]}.safetensors"


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})
    except Exception:      # a file from an interrupted older writer, or foreign junk: recompute
        return None


def load_stats(path: Path, source: dict[str, str]) -> tuple[dict[str, torch.Tensor] | None, str]:
    """(tensors, "ok") when ``path`` holds statistics computed from ``source`` (the metadata
    :func:`save_stats` was given: reference digest, network) whose tensors match their stored
    hash; otherwise (None, why): ABSENT, UNREADABLE, UNHASHED, CHANGED or OTHER_SOURCE."""
    if not path.is_file():
        return None, ABSENT
    got = _read(path)
    if got is None:
        return None, UNREADABLE
    tensors, meta = got
    if meta.get("format") != FORMAT or "tensors_sha256" not in meta:
        return None, UNHASHED
    if any(meta.get(k) != v for k, v in source.items()):
        return None, OTHER_SOURCE
    if meta["tensors_sha256"] != tensors_sha256(tensors):
        return None, CHANGED
    return tensors, "ok"


def save_stats(path: Path, tensors: dict[str, torch.Tensor], source: dict[str, str]) -> str | None:
    """Write atomically (:func:`genzoo._io.atomic_path`: a temporary file beside it, then renamed),
    with ``source`` and the tensors' hash as metadata. None when written, else why not (one line):
    a cache that cannot be written must not stop the scoring."""
    from safetensors.torch import save

    from .._io import write_bytes

    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {**source, "format": FORMAT, "tensors_sha256": tensors_sha256(tensors)}
    try:
        write_bytes(path, save(tensors, metadata=meta))
    except OSError as exc:
        return _why_unwritable(path.parent, exc)
    return None


def _why_unwritable(folder: Path, exc: OSError) -> str:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"a file is in the way ({existing} is not a folder)"
    return exc.strerror or type(exc).__name__
