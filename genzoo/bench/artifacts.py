"""Files a run leaves behind, each written atomically (:mod:`genzoo._io`: a temporary file in the
same folder, then ``os.replace``), so a kill at any moment leaves either the old file, the new
one, or none."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import shutil
from pathlib import Path

import torch

from .._io import atomic_path, tmp_dir_beside, tmp_path_beside, write_bytes  # noqa: F401


def finite_or_none(v) -> float | None:
    """``float(v)`` when finite, else None (strict JSON has no NaN/inf; records store null)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def clean_json(value):
    """JSON-safe copy: non-finite floats become None (strict JSON has no NaN), tuples lists,
    tensors and numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_json(path, obj) -> None:
    write_bytes(path, (json.dumps(clean_json(obj), indent=2, allow_nan=False) + "\n").encode())


def write_history_csv(path, history: list[dict]) -> None:
    """``history`` (one dict per step) as gzip-compressed CSV, floats to 7 significant digits
    (float32 precision): a 20-epoch run logs ~20,000 rows, 1.8 MB as plain text, ~0.3 MB so."""
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]

    def cell(v):
        v = clean_json(v)
        return format(v, ".7g") if isinstance(v, float) else v

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: cell(v) for k, v in row.items()})
    # mtime=0: the same history gives the same bytes
    write_bytes(path, gzip.compress(buf.getvalue().encode(), mtime=0))


def read_history_csv(path) -> list[dict]:
    """What :func:`write_history_csv` wrote (a plain ``.csv`` too): one dict per step, numbers as
    int or float, empty cells left out."""
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()

    def num(v: str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v

    return [{k: num(v) for k, v in row.items() if v not in ("", None)}
            for row in csv.DictReader(io.StringIO(text))]


def write_tensor(path, tensor: torch.Tensor) -> None:
    buf = io.BytesIO()
    torch.save(tensor.detach().cpu().contiguous(), buf)
    write_bytes(path, buf.getvalue())


def write_samples(path, x: torch.Tensor) -> None:
    """Samples as a tensor file: images (N, C, H, W) in [0, 1] as uint8 0..255 (what a PNG holds,
    a quarter of float32's size), points as they are. :func:`read_samples` undoes it."""
    x = x.detach().cpu()
    if x.ndim == 4 and x.dtype != torch.uint8:        # uint8 images (real ones, as stored) are kept as they are
        x = (x.float().clamp(0, 1) * 255).round().to(torch.uint8)
    write_tensor(path, x)


def decode_samples(x: torch.Tensor) -> torch.Tensor:
    """Stored samples as float32: uint8 images (0..255) back to [0, 1], anything else as it is."""
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def read_samples(path) -> torch.Tensor:
    """A samples file written by :func:`write_samples`, as float32."""
    return decode_samples(torch.load(path, map_location="cpu", weights_only=True))


def image_grid(x: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] (or uint8 0..255: real images as stored) -> one (3, H', W') grid;
    1 and 3 channels as they are."""
    from torchvision.utils import make_grid

    from ..data import as_float

    x = as_float(x.detach()).float().clamp(0, 1)
    if x.shape[1] not in (1, 3):  # e.g. 2-channel: show the first channel
        x = x[:, :1]
    return make_grid(x, nrow=nrow, padding=2, pad_value=1.0)


def grid_to_uint8(grid: torch.Tensor):
    """(C, H, W) float grid in [0, 1] -> (H, W, 3) uint8 numpy array."""
    if grid.shape[0] == 1:
        grid = grid.expand(3, -1, -1)
    return grid.mul(255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def points_figure(samples: torch.Tensor, reference=None, title: str = ""):
    """A matplotlib figure: the reference data (grey), its mixture means (x) and the samples."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if reference is not None:
        ref = reference.x[:2500]
        ax.scatter(ref[:, 0], ref[:, 1], s=2, c="0.75", alpha=0.6, label="data", rasterized=True)
        means = reference.meta.get("means") if hasattr(reference, "meta") else None
        if means is not None:
            ax.scatter(means[:, 0], means[:, 1], marker="x", c="k", s=30, label="modes")
    s = samples.detach().float()
    ax.scatter(s[:, 0], s[:, 1], s=2, c="tab:red", alpha=0.5, label="samples", rasterized=True)
    if reference is not None:  # frame on the data, so that far-off samples do not squash the plot
        lo, hi = reference.x.min(0).values, reference.x.max(0).values
        pad = 0.25 * (hi - lo).max().item() + 1e-3
        ax.set_xlim(lo[0].item() - pad, hi[0].item() + pad)
        ax.set_ylim(lo[1].item() - pad, hi[1].item() + pad)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=6, markerscale=3)
    fig.tight_layout()
    return fig


def figure_to_uint8(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    import numpy as np

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_png(path, samples: torch.Tensor, *, nrow: int = 8, reference=None, title: str = "") -> bool:
    """``samples.png``: an image grid (torchvision) or, for points, a scatter plot (matplotlib).
    Not drawn (False) where that library is not installed (a bare GPU machine: ``genzoo.gpu``);
    ``samples.pt`` beside it holds the same samples."""
    try:
        if samples.dim() == 4:
            import torchvision  # noqa: F401
        else:
            import matplotlib  # noqa: F401
    except ImportError:
        return False
    with atomic_path(path) as tmp:
        if samples.dim() == 4:
            from torchvision.utils import save_image

            save_image(image_grid(samples, nrow), str(tmp), format="png")
        else:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            fig = points_figure(samples, reference, title)
            FigureCanvasAgg(fig)
            fig.savefig(str(tmp), format="png")
    return True


SAMPLER_DIR = "sampler"      # a run's sampler-only checkpoint, committed with the results (see README)
CHECKPOINT_DIR = "checkpoint"  # a run's full checkpoint (every network), too large to commit


def save_checkpoint(model, directory: Path, *, sampler_only: bool = False) -> None:
    """``model.save_pretrained`` into a temporary folder, then renamed into place.
    ``sampler_only``: only the networks ``sample`` needs (what ``genzoo demo`` loads)."""
    directory = Path(directory)
    tmp = tmp_dir_beside(directory)
    try:
        model.save_pretrained(tmp, sampler_only=sampler_only)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
