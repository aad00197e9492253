"""The report's files, written atomically through :mod:`genzoo._io` (one implementation for all of genzoo)."""

from __future__ import annotations

import os
from pathlib import Path

from .._io import atomic_path, write_text

__all__ = ["save_figure", "write_text"]


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return Path(path)
