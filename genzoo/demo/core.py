"""What the demo page shows, as plain functions of saved models (no web framework here): finding
the saved models under folders, loading them, drawing sample grids, interpolation strips and the
metrics of their records. Everything runs on the CPU and never trains."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..bench import artifacts
from ..errors import CheckpointError, UserError

GRID_COLUMNS = 8
IMAGE_SAMPLES = 64
POINT_SAMPLES = 2500
ZOOM = 3                     # 28x28 images shown 3 times larger; larger images less (ZOOM_TO pixels an item)
ZOOM_TO = 84
ALL_CLASSES = "all classes (a row each)"
HOW_TO_GET_MODELS = "redo them with `genzoo bench`, which saves them (the paper profile needs a GPU)"


@dataclass(frozen=True)
class SavedModel:
    """One loadable model folder (``config.json`` + ``model.safetensors``) and the run it belongs to."""

    label: str                   # what the page lists: "fashion/vae-s0"
    dir: Path                    # the model folder
    record_path: Path | None     # the run's record.json, when the folder is a run's sampler/ or checkpoint/

    def record(self):
        """The run's :class:`~genzoo.bench.RunRecord`, or None (no record, or one that cannot be read)."""
        from ..bench.record import load_record

        if self.record_path is None:
            return None
        try:
            return load_record(self.record_path)
        except (OSError, ValueError, TypeError):
            return None


@dataclass
class Found:
    """What :func:`discover` finds: the models, and notes (one line each) on runs without one."""

    models: list[SavedModel] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _natural(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _is_model_dir(d: Path) -> bool:
    return (d / "config.json").is_file() and ((d / "model.safetensors").is_file()
                                              or d.name in (artifacts.SAMPLER_DIR, artifacts.CHECKPOINT_DIR))


def _run_model_dir(run: Path) -> Path | None:
    """A run's sampler-only folder, else its full checkpoint, else None."""
    for name in (artifacts.SAMPLER_DIR, artifacts.CHECKPOINT_DIR):
        if (run / name / "config.json").is_file():
            return run / name
    return None


def _label(path: Path, root: Path, prefix: str) -> str:
    rel = path.relative_to(root).as_posix() if path != root else path.resolve().name
    rel = re.sub(r"(^|/)runs/", r"\1", rel)
    return f"{prefix}{rel}" if prefix else rel


def discover(paths) -> Found:
    """The saved models under ``paths`` (results folders, benchmark folders, run folders or model
    folders written by ``save_pretrained``), in the order of ``paths``, each one's sorted by label.
    A run holding a ``sampler/`` folder is listed with it, else with its ``checkpoint/``. Raises
    UserError (one line) for a path that does not exist or holds no model, saying so when it holds
    run records without saved models."""
    paths = [Path(p) for p in (paths or ["results"])]
    found = Found()
    for root in paths:
        if not root.exists():
            raise UserError(f"{root}: no such folder")
        if not root.is_dir():
            raise UserError(f"{root} is a file; give a results folder, a run folder or a model folder")
        prefix = f"{root.name}/" if len(paths) > 1 else ""
        if _is_model_dir(root):
            rec = root.parent / "record.json"
            named = root.parent if root.name in (artifacts.SAMPLER_DIR, artifacts.CHECKPOINT_DIR) else root
            found.models.append(SavedModel(named.resolve().name, root, rec if rec.is_file() else None))
            continue
        runs = sorted({p.parent for p in root.rglob("record.json")} | ({root} if (root / "record.json").is_file() else set()))
        models, bare = [], []
        for run in runs:
            d = _run_model_dir(run)
            if d is None:
                bare.append(run)
            else:
                models.append(SavedModel(_label(run, root, prefix), d, run / "record.json"))
        in_runs = {m.dir for m in models}
        for cfg in sorted(root.rglob("config.json")):       # model folders outside runs with records
            d = cfg.parent
            if d in in_runs or not _is_model_dir(d) or (d.parent / "record.json").is_file():
                continue
            if d.name == artifacts.CHECKPOINT_DIR and _is_model_dir(d.parent / artifacts.SAMPLER_DIR):
                continue                                      # the run's sampler/ is listed instead
            run_like = d.name in (artifacts.SAMPLER_DIR, artifacts.CHECKPOINT_DIR) and d.parent != root
            models.append(SavedModel(_label(d.parent if run_like else d, root, prefix), d, None))
        if not models:
            if bare:
                raise UserError(f"{root} has {len(bare)} run records but no saved models (no run kept a sampler/ "
                                f"or checkpoint/ folder): {HOW_TO_GET_MODELS}")
            raise UserError(f"{root} holds no genzoo models (config.json + model.safetensors) and no run records")
        found.models += sorted(models, key=lambda m: _natural(m.label))
        with_models = {_benchmark_of(m.record_path.parent) for m in models if m.record_path is not None}
        for bench, n in _count_by_benchmark(bare).items():      # other seeds than 0 have none by design
            if bench not in with_models:
                found.notes.append(f"{bench}: {n} run records but no saved models, not listed; {HOW_TO_GET_MODELS}")
    labels: dict[str, int] = {}
    unique = []
    for m in found.models:
        labels[m.label] = labels.get(m.label, 0) + 1
        unique.append(m if labels[m.label] == 1 else SavedModel(f"{m.label} ({labels[m.label]})", m.dir, m.record_path))
    found.models = unique
    return found


def _benchmark_of(run: Path) -> Path:
    return run.parent.parent if run.parent.name == "runs" else run.parent


def _count_by_benchmark(runs: list[Path]) -> dict[Path, int]:
    out: dict[Path, int] = {}
    for run in runs:
        out[_benchmark_of(run)] = out.get(_benchmark_of(run), 0) + 1
    return out


def load_model(saved: SavedModel):
    """The model of a saved folder, on the CPU. A folder that cannot be loaded raises UserError
    with one line naming the file and why."""
    from ..models import load

    try:
        return load(saved.dir).to("cpu")
    except CheckpointError:
        raise
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


# --- what the page draws -------------------------------------------------------------------------

def class_names(model) -> list[str]:
    """The names of a fitted model's classes: those its dataset declares (``DatasetInfo.class_names``:
    Fashion-MNIST's garments, a mixture's modes), when it declares as many; else numbers."""
    from ..data import find_info

    k = model.num_classes_
    info = find_info(model.data_name_ or "")
    if info is not None and len(info.class_names) == k:
        return list(info.class_names)
    return [str(i) for i in range(k)]


def class_choices(model) -> list[str]:
    """The class picker's entries: every class in a row each, then each class alone."""
    return [ALL_CLASSES, *class_names(model)] if model.conditional else []


def labels_for(model, n: int, choice: str | None) -> tuple[torch.Tensor | None, int]:
    """(labels, columns) for ``n`` samples of ``choice``, a :func:`class_choices` entry: one class
    (``n`` of it), or None / ALL_CLASSES: a row of GRID_COLUMNS images per class (points: ``n``
    shared among the classes). Unconditional models: (None, GRID_COLUMNS)."""
    if not model.conditional:
        return None, GRID_COLUMNS
    names = class_names(model)
    if choice in (None, "", ALL_CLASSES):
        per = GRID_COLUMNS if len(model.shape_) == 3 else max(1, n // len(names))
        return torch.arange(len(names)).repeat_interleave(per), per
    if choice not in names:
        raise UserError(f"unknown class {choice!r}; choose one of {names}")
    return torch.full((n,), names.index(choice), dtype=torch.long), GRID_COLUMNS


def _reference(model):
    """The true data of a model of 2-D points whose dataset is a mixture (``mode_count ==
    "points"``: its modes are drawn under the samples), else None."""
    from ..data import find_info, load

    info = find_info(model.data_name_ or "")
    if model.shape_ != (2,) or info is None or info.mode_count != "points":
        return None
    return load(model.data_name_, split="test", **({"n": POINT_SAMPLES} if "n" in info.options else {}))


def render(model, x: torch.Tensor, columns: int = GRID_COLUMNS, title: str = "", path: bool = False) -> np.ndarray:
    """Samples as an (H, W, 3) uint8 picture: images in a grid of ``columns``; 2-D points over the
    true modes of their mixture; other points (e.g. the 4 values of pattern-1010) as a heat map.
    ``path``: the points are a walk (an interpolation), joined by a line."""
    if x.dim() == 4:                                  # images shown zoom times larger, pixels kept
        picture = artifacts.grid_to_uint8(artifacts.image_grid(x, nrow=columns))
        zoom = min(ZOOM, max(1, ZOOM_TO // x.shape[-1]))   # 28 px: 3x; 32: 2x; 64 and up: as they are
        return picture.repeat(zoom, axis=0).repeat(zoom, axis=1)
    if x.shape[1] == 2:
        fig = artifacts.points_figure(x, _reference(model), title)
        if path:
            ax = fig.axes[0]
            ax.plot(x[:, 0], x[:, 1], "-o", c="tab:blue", ms=4, lw=1)
        return artifacts.figure_to_uint8(fig)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(x[:64].float().numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel("value")
    ax.set_ylabel("sample")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return artifacts.figure_to_uint8(fig)


def check_seed(seed) -> int:
    """A seed from the page's field: a whole number in 0 .. 2**63 - 1, else UserError."""
    try:
        f = float(seed)
    except (TypeError, ValueError):
        raise UserError(f"the seed must be a whole number, got {seed!r}") from None
    if not math.isfinite(f) or f != int(f) or not 0 <= f < 2 ** 63:
        raise UserError(f"the seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return int(f)


def samples(model, seed, choice: str | None = None, psi=1.0) -> tuple[torch.Tensor, int]:
    """(samples, columns) from ``seed``: 64 images (cGAN: a row per class, or 64 of one class),
    or 2500 points; ``psi``: the truncation, for a model that has the trick (:func:`can_truncate`)."""
    seed = check_seed(seed)
    n = IMAGE_SAMPLES if len(model.shape_) == 3 else POINT_SAMPLES
    labels, columns = labels_for(model, n, choice)
    if labels is not None:
        n = len(labels)
    if can_truncate(model):
        return model.sample(n, labels, seed=seed, truncation=check_truncation(psi)), columns
    return model.sample(n, labels, seed=seed), columns


def sample_picture(model, seed, choice: str | None = None, psi=1.0) -> np.ndarray:
    x, columns = samples(model, seed, choice, psi)
    title = f"seed {check_seed(seed)}" + (f", truncation {float(psi):g}" if can_truncate(model) else "")
    return render(model, x, columns, title=title)


def latent(model, seed) -> torch.Tensor:
    """The code (1, latent_dim) that ``model.sample(1, seed=seed)`` decodes."""
    return torch.randn(1, model.config.latent_dim, generator=torch.Generator().manual_seed(check_seed(seed)))


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` codes on the great circle from ``a`` to ``b`` (1, d) (scaled between their norms),
    the usual path between Gaussian codes: a straight line passes through codes of unlikely small norm."""
    if steps < 2:
        raise UserError(f"an interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0, 1, steps, dtype=torch.float64)[:, None]
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    omega = torch.arccos(((a64 / na) * (b64 / nb)).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        z = (1 - t) * a64 + t * b64
    else:
        dirs = (torch.sin((1 - t) * omega) * (a64 / na) + torch.sin(t * omega) * (b64 / nb)) / torch.sin(omega)
        z = dirs * ((1 - t) * na + t * nb)
    z[0], z[-1] = a64[0], b64[0]
    return z.float()


def interpolation(model, seed_a, seed_b, steps: int = GRID_COLUMNS, choice: str | None = None) -> torch.Tensor:
    """Samples along the latent path from ``seed_a``'s code to ``seed_b``'s; a conditional model
    keeps one class (``choice``; the first class for ALL_CLASSES)."""
    steps = int(steps)
    z = slerp(latent(model, seed_a), latent(model, seed_b), steps)
    labels = None
    if model.conditional:
        names = class_names(model)
        k = names.index(choice) if choice in names else 0
        labels = torch.full((steps,), k, dtype=torch.long)
    return model.decode(z, labels)


def interpolation_picture(model, seed_a, seed_b, steps: int = GRID_COLUMNS, choice: str | None = None) -> np.ndarray:
    x = interpolation(model, seed_a, seed_b, steps, choice)
    return render(model, x, columns=len(x), title=f"seed {check_seed(seed_a)} to seed {check_seed(seed_b)}", path=True)


# --- what a model declares it can draw: truncation, style mixing, the sides it grew through ----------
# Read from the model's class (its ``sample``'s parameters, its public methods), so a plug-in model
# that offers the same gets the same controls; nothing here branches on a model's name.

MIX_SEEDS = 4                # the style-mixing grid: this many row seeds and column seeds by default


def _takes(fn, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def can_truncate(model) -> bool:
    """Whether ``model.sample`` takes ``truncation`` (StyleGAN's truncation trick)."""
    return _takes(model.sample, "truncation")


def can_mix(model) -> bool:
    """Whether the model draws the style-mixing figure (``style_mixing_grid(row_seeds, col_seeds)``)."""
    return callable(getattr(model, "style_mixing_grid", None))


def grown_sides(model) -> list[int]:
    """The sides a progressively grown model can draw at (``sample(..., resolution=side)``), from
    the smallest; [] for a model that does not grow."""
    sides = getattr(model, "resolutions", None)
    if not sides or len(sides) < 2 or not _takes(model.sample, "resolution"):
        return []
    return list(sides)


def check_truncation(psi) -> float:
    """psi from the page's slider: a number in [0, 1], else UserError."""
    try:
        f = float(psi)
    except (TypeError, ValueError):
        raise UserError(f"the truncation must be a number from 0 to 1, got {psi!r}") from None
    if not math.isfinite(f) or not 0 <= f <= 1:
        raise UserError(f"the truncation must be a number from 0 to 1, got {psi!r}")
    return f


def parse_seeds(text, what: str) -> list[int]:
    """Seeds from a text field ("1, 2, 3" or "1 2 3"): 1 to 8 whole numbers, else UserError."""
    parts = [p for p in re.split(r"[,\s]+", str(text or "").strip()) if p]
    if not 1 <= len(parts) <= GRID_COLUMNS:
        raise UserError(f"give 1 to {GRID_COLUMNS} {what}, separated by commas, got {text!r}")
    return [check_seed(p) for p in parts]


def mixing_grid(model, row_seeds, col_seeds, psi=1.0) -> tuple[torch.Tensor, int]:
    """The style-mixing figure of the StyleGAN paper as one grid (images, columns): its top row
    the column seeds' own samples, its left column the row seeds'; the image at row i, column j
    takes the coarse styles from row seed i and the fine ones from column seed j."""
    if not can_mix(model):
        raise UserError(f"{model.name} does not mix styles")
    rows, cols = parse_seeds(row_seeds, "row seeds"), parse_seeds(col_seeds, "column seeds")
    psi = check_truncation(psi)
    mixed = model.style_mixing_grid(rows, cols, truncation=psi)             # (R, C, ch, H, W)
    heads_r = torch.cat([model.sample(1, seed=s, truncation=psi) for s in rows])
    heads_c = torch.cat([model.sample(1, seed=s, truncation=psi) for s in cols])
    blank = torch.ones_like(heads_c[:1])
    grid = [blank, heads_c]
    for i in range(len(rows)):
        grid += [heads_r[i:i + 1], mixed[i]]
    return torch.cat(grid), len(cols) + 1


def mixing_picture(model, row_seeds, col_seeds, psi=1.0) -> np.ndarray:
    x, columns = mixing_grid(model, row_seeds, col_seeds, psi)
    return render(model, x, columns)


def growth_grid(model, seed) -> tuple[torch.Tensor, int]:
    """A row per side the model grew through (the smallest on top): ``seed``'s first 8 samples
    drawn at that side, enlarged to the data's side pixel for pixel."""
    sides = grown_sides(model)
    if not sides:
        raise UserError(f"{model.name} was not grown through resolutions")
    seed, full = check_seed(seed), sides[-1]
    rows = []
    for side in sides:
        x = model.sample(GRID_COLUMNS, seed=seed, resolution=side)
        rows.append(torch.nn.functional.interpolate(x, size=(full, full), mode="nearest") if side != full else x)
    return torch.cat(rows), GRID_COLUMNS


def growth_picture(model, seed) -> np.ndarray:
    x, columns = growth_grid(model, seed)
    return render(model, x, columns, title=f"seed {check_seed(seed)}")


# --- what the page writes ------------------------------------------------------------------------

def describe(saved: SavedModel, model) -> str:
    """Markdown: what the model is, and the metrics of its run's record."""
    from ..report.records import Run, order_metrics

    what = (f"**{saved.label}**: `{model.name}` ({model.family or 'model'}{', conditional' if model.conditional else ''}), "
            f"trained on {model.data_name_ or 'unknown data'} (seed {model.seed_}), latent dimension "
            f"{model.config.latent_dim}; loaded from `{saved.dir}`"
            f"{' (sampler only)' if model.is_sampler_only else ''}.")
    if model.conditional:
        what += f" Its classes, a row each from the top: {', '.join(class_names(model))}."
    rec = saved.record()
    if rec is None:
        return what + "\n\nNo run record beside this model: no metrics."
    run = Run(saved.record_path.parent.name, saved.record_path.parent, rec)
    metrics = run.metrics
    if not metrics:
        return what + f"\n\nIts record (status {run.status}) holds no metrics."
    from ..report.records import PRIOR_SUFFIX, is_class_frac

    names = [m for m in order_metrics(metrics)
             if not is_class_frac(m) and not m.endswith("_std") and not m.endswith(PRIOR_SUFFIX)]
    prior = any(m + PRIOR_SUFFIX in metrics for m in names)

    def cell(m):
        return f"{metrics[m]:.4g}" if m in metrics else ""

    head = "| metric | value | decoding N(0, I) codes |\n|---|---|---|" if prior else "| metric | value |\n|---|---|"
    rows = "\n".join(f"| {m} | {cell(m)} |" + (f" {cell(m + PRIOR_SUFFIX)} |" if prior else "") for m in names)
    profile = rec.profile
    return (what + f"\n\nMetrics of its run ({profile + ' profile, ' if profile else ''}status {run.status}):\n\n"
            f"{head}\n{rows}")


def summary_line(found: Found) -> str:
    return f"{len(found.models)} saved model{'s' if len(found.models) != 1 else ''}"


# --- the sampler checkpoints of existing runs ------------------------------------------------------

def export_samplers(paths) -> list[tuple[Path, int]]:
    """Write ``sampler/`` (the sampler-only checkpoint) beside every run's full ``checkpoint/``
    under ``paths``; returns (sampler folder, bytes) for each. Raises UserError when a path does not
    exist or holds no full checkpoint."""
    from ..models import load

    out = []
    for root in [Path(p) for p in paths]:
        if not root.is_dir():
            raise UserError(f"{root}: no such folder")
        dirs = sorted(p.parent for p in root.rglob(f"{artifacts.CHECKPOINT_DIR}/config.json"))
        if (root / "config.json").is_file() and root.name == artifacts.CHECKPOINT_DIR:
            dirs = [root]
        if not dirs:
            raise UserError(f"{root} holds no full checkpoint (no {artifacts.CHECKPOINT_DIR}/config.json under it) "
                            f"to write a sampler from")
        for ckpt in dirs:
            model = load(ckpt)
            target = ckpt.parent / artifacts.SAMPLER_DIR
            artifacts.save_checkpoint(model, target, sampler_only=True)
            out.append((target, folder_bytes(target)))
    return out


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def listen(port: int):
    """A socket listening on 127.0.0.1:``port`` (0: a free port that the system picks; the
    socket's ``getsockname()[1]`` says which). The page is served on this very socket, so the port
    is held from here on: no other process can take it between this check and the server's start,
    and a client that connects before the server is up waits in the backlog instead of being
    refused. UserError when the port is out of range or taken."""
    import socket

    if not 0 <= port < 65536:
        raise UserError(f"--port must be in 1..65535 (0: any free port), got {port}")
    sock = socket.socket()
    try:
        if os.name == "posix":           # a restart right after a stop: not refused for the old connections' TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UserError(f"port {port} on 127.0.0.1 is taken ({exc.strerror}): give another with --port "
                        f"(0: any free port)") from None
    return sock


def new_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") >> 1
