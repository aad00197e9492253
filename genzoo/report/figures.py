"""Figures drawn from run records and the files beside them (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from .._io import atomic_path
from ..bench.artifacts import decode_samples
from .records import Benchmark, Run, class_frac_index, is_class_frac
from .summary import fmt, fmt_mean_std, mean_std

# Figures are matplotlib ``Figure`` objects rendered by the Agg canvas: pyplot and its global
# backend are never touched, so importing genzoo.report changes nothing in a notebook or a GUI.

SAMPLE_SEED = 1234          # the bench runner draws every run's samples from this sample seed

FIGURES = {
    "samples": "samples.png",
    "training_curves": "training_curves.png",
    "precision_recall": "precision_recall.png",
    "mode_coverage": "mode_coverage.png",
    "samples_over_modes": "samples_over_modes.png",
    "cgan_per_class": "cgan_per_class.png",
    "ae_vs_vae_prior": "ae_vs_vae_prior.png",
}



def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically (through :mod:`genzoo._io`, as every genzoo file)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return Path(path)


CURVE_GROUPS = (
    ("G/D losses", ("loss_g", "loss_d")),
    ("D(x) and D(G(z))", ("d_real", "d_fake")),
    ("Wasserstein estimate", ("wasserstein",)),
    ("reconstruction loss", ("loss", "recon")),
    ("KL divergence", ("kl",)),
)
CURVE_LABELS = {"loss_g": "G loss", "loss_d": "D loss", "d_real": "D(x)", "d_fake": "D(G(z))",
                "wasserstein": "W estimate", "loss": "total loss", "recon": "reconstruction", "kl": "KL"}
NOT_CURVES = {"step", "epoch", "time", "time_s", "wall_time_s", "lr", "seed", "batch"}
SCHEDULE_KEYS = ("phase", "resolution", "alpha")      # a scheduled model's place (genzoo.training.schedule):
                                                      # drawn as phase boundaries, not as curves


class Problems(list):
    """Things that could not be drawn (bad or missing files); listed in summary.md."""


# ----------------------------------------------------------------------------- loading
def tensor_grid(t: np.ndarray, nrow: int = 8, pad: int = 2) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> one image (H', W') or (H', W', 3) with ``nrow`` images a row."""
    t = np.clip(np.asarray(t, dtype=np.float32), 0, 1)
    n, c, h, w = t.shape
    ncol = min(nrow, n)
    rows = math.ceil(n / ncol)
    grid = np.ones((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        grid[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + k * (w + pad): pad + k * (w + pad) + w] = t[i]
    return grid[0] if c == 1 else np.transpose(grid[:3], (1, 2, 0))


def _load_tensor(path: Path) -> np.ndarray:
    import torch  # noqa: PLC0415

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        obj = obj.get("samples", next(iter(obj.values())))
    return decode_samples(obj.detach()).numpy()


def load_image(run: Run, names: tuple[str, ...], problems: Problems) -> np.ndarray | None:
    """The first of ``names`` (a .png, or a .pt image tensor) that loads, as an array in [0, 1]."""
    for name in names:
        p = run.file(name)
        if p is None:
            continue
        try:
            if p.suffix == ".png":
                from PIL import Image  # noqa: PLC0415

                with Image.open(p) as im:
                    a = np.asarray(im.convert("L" if im.mode in ("L", "I", "I;16", "1") else "RGB"), dtype=np.float32) / 255
                return a
            t = _load_tensor(p)
            if t.ndim == 4:
                return tensor_grid(t)
            problems.append(f"{run.run_id}/{name}: expected an (N, C, H, W) tensor, got shape {tuple(t.shape)}")
        except Exception as e:  # a broken file must not stop the report
            problems.append(f"{run.run_id}/{name} could not be read: {type(e).__name__}: {e}")
    return None


def load_points(run: Run, problems: Problems) -> np.ndarray | None:
    p = run.file("samples.pt")
    if p is None:
        return None
    try:
        t = _load_tensor(p)
    except Exception as e:
        problems.append(f"{run.run_id}/samples.pt could not be read: {type(e).__name__}: {e}")
        return None
    if t.ndim != 2 or t.shape[1] != 2:
        problems.append(f"{run.run_id}/samples.pt: expected (N, 2) points, got shape {tuple(t.shape)}")
        return None
    return t


def load_history(run: Run, problems: Problems) -> pd.DataFrame | None:
    p = run.file("history.csv.gz") or run.file("history.csv")  # plain .csv: written before the runner compressed it
    if p is None:
        return None
    try:
        h = pd.read_csv(p)   # compression inferred from the suffix
    except Exception as e:
        problems.append(f"{run.run_id}/{p.name} could not be read: {type(e).__name__}: {e}")
        return None
    if h.empty:
        return None
    if "step" not in h.columns:
        h = h.assign(step=np.arange(1, len(h) + 1))
    return h


# ----------------------------------------------------------------------------- helpers
def _panels(n: int, ncols: int, w: float, h: float, title: str):
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(layout="constrained", figsize=(w * ncols, h * nrows + 0.6))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    axes = list(axes.ravel())
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=12)
    return fig, axes[:n]


def _imshow(ax, img: np.ndarray, title: str):
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def _metric_note(bench: Benchmark, run: Run, metric: str | None) -> str:
    if metric and metric in run.metrics:
        return f"\n{metric} {fmt(run.metrics[metric])}"
    return ""


def _colors() -> list[str]:
    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def smooth(y: pd.Series, window: int) -> pd.Series:
    return y.rolling(window, min_periods=1).mean()


# ----------------------------------------------------------------------------- the figures
def fig_samples(bench: Benchmark, models: list[str], path: Path, problems: Problems) -> Path | None:
    """One panel per model: the samples of its first seed's run (all from sample seed 1234)."""
    panels = []
    primary = bench.primary_metric()
    for m in models:
        for run in bench.runs_of(m):
            img = load_image(run, ("samples.png", "samples.pt"), problems)
            if img is not None:
                panels.append((m, run, img))
                break
    if not panels:
        return None
    fig, axes = _panels(len(panels), 3, 4.2, 4.6,
                        f"{bench.name}: samples per model (first training seed, sample seed {SAMPLE_SEED})")
    for ax, (m, run, img) in zip(axes, panels):
        _imshow(ax, img, f"{m} (seed {run.seed}){_metric_note(bench, run, primary)}")
    return save_figure(fig, path)


def _mean_history(bench: Benchmark, model: str, problems: Problems) -> tuple[pd.DataFrame | None, int]:
    hs = [h for h in (load_history(r, problems) for r in bench.runs_of(model)) if h is not None]
    if not hs:
        return None, 0
    cat = pd.concat(hs, ignore_index=True)
    cols = [c for c in cat.columns if c not in NOT_CURVES and pd.api.types.is_numeric_dtype(cat[c])]
    if not cols:
        return None, 0
    return cat.groupby("step")[cols].mean().sort_index(), len(hs)


def phase_starts(h: pd.DataFrame) -> list[tuple[int, str]]:
    """(step, label) where each phase after the first begins, for a history with ``phase``
    (a model on a schedule: the seeds share it); the label names the resolution and whether the
    phase fades a new block in (its alpha starts below 1)."""
    if "phase" not in h.columns:
        return []
    phase = h["phase"].round()
    starts = h.index[(phase != phase.shift()).to_numpy()][1:]
    out = []
    for step in starts:
        row = h.loc[step]
        what = "fade in" if "alpha" in h.columns and row["alpha"] < 1 else "stabilize"
        side = f" {int(row['resolution'])}" if "resolution" in h.columns else ""
        out.append((int(step), f"{what}{side}"))
    return out


def fig_training_curves(bench: Benchmark, models: list[str], path: Path, problems: Problems) -> Path | None:
    """Per model, one panel per group of logged quantities; mean over seeds, smoothed."""
    rows = []
    for m in models:
        h, nseeds = _mean_history(bench, m, problems)
        if h is None:
            continue
        groups = [(t, [k for k in keys if k in h.columns]) for t, keys in CURVE_GROUPS]
        known = {k for _, keys in CURVE_GROUPS for k in keys} | set(SCHEDULE_KEYS)
        other = [c for c in h.columns if c not in known]
        groups = [(t, ks) for t, ks in groups if ks] + ([("other logged values", other)] if other else [])
        if groups:
            rows.append((m, h, nseeds, groups))
    if not rows:
        return None
    ncols = max(len(g) for *_, g in rows)
    fig = Figure(layout="constrained", figsize=(4.3 * ncols, 2.9 * len(rows) + 0.7))
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    windows = []
    for i, (m, h, nseeds, groups) in enumerate(rows):
        window = max(1, len(h) // 50)
        windows.append(window)
        for j in range(ncols):
            ax = axes[i][j]
            if j >= len(groups):
                ax.axis("off")
                continue
            title, keys = groups[j]
            critic = title.startswith("D(x)") and not (h[keys].min().min() >= 0 and h[keys].max().max() <= 1)
            for k, color in zip(keys, _colors()):
                y = h[k].astype(float)
                label = {"d_real": "critic(x)", "d_fake": "critic(G(z))"}.get(k) if critic else None
                ax.plot(h.index, y, color=color, alpha=0.25, lw=0.7)
                ax.plot(h.index, smooth(y, window), color=color, lw=1.6, label=label or CURVE_LABELS.get(k, k))
            if title.startswith("D(x)"):
                vals = h[keys].to_numpy(dtype=float)
                if np.nanmin(vals) >= 0 and np.nanmax(vals) <= 1:
                    ax.set_ylim(-0.02, 1.02)            # probabilities
                else:                                   # a WGAN critic: scores, not probabilities
                    title = "critic on real and on generated"
            for step, what in phase_starts(h):                     # a scheduled model: where each phase begins
                ax.axvline(step, color="0.45", lw=0.8, ls="--")
                if j == 0:
                    ax.annotate(what, (step, 1), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                                va="top", ha="right", color="0.35")
            ax.set_title(f"{m}: {title} ({nseeds} seed{'s' * (nseeds != 1)})", fontsize=10)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="best")
    smoothing = ("no smoothing" if max(windows) == 1 else
                 f"thin: raw mean, thick: running mean over {min(windows)}"
                 + (f"–{max(windows)}" if min(windows) != max(windows) else "") + " steps")
    fig.suptitle(f"{bench.name}: training curves (ok runs, mean over seeds; {smoothing})", fontsize=12)
    return save_figure(fig, path)


def fig_precision_recall(bench: Benchmark, models: list[str], path: Path) -> Path | None:
    pts = {m: [(r.metrics["recall"], r.metrics["precision"]) for r in bench.runs_of(m)
               if "recall" in r.metrics and "precision" in r.metrics] for m in models}
    pts = {m: np.array(v) for m, v in pts.items() if v}
    if not pts:
        return None
    fig = Figure(layout="constrained", figsize=(6.2, 5.6))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls="--", color="gray", lw=1, label="precision = recall")
    for m, v in pts.items():
        line = ax.scatter(v[:, 0], v[:, 1], s=18, alpha=0.45)
        color = line.get_facecolor()[0]
        mr, mp = v[:, 0].mean(), v[:, 1].mean()
        xerr = v[:, 0].std(ddof=1) if len(v) > 1 else 0
        yerr = v[:, 1].std(ddof=1) if len(v) > 1 else 0
        ax.errorbar(mr, mp, xerr=xerr, yerr=yerr, fmt="o", ms=9, color=color, mec="black", capsize=3,
                    label=f"{m} (n={len(v)})")
        ax.annotate(m, (mr, mp), textcoords="offset points", xytext=(7, 5), fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("recall (coverage of the real data)")
    ax.set_ylabel("precision (realism of the samples)")
    ax.set_title(f"{bench.name}: precision vs recall\n(small: one run each; large: mean ± std over seeds)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, path)


def _class_names(bench: Benchmark, k: int) -> list[str]:
    """The names of ``k`` classes: the dataset's declared ones when it declares ``k``, else numbers."""
    return bench.class_names(k)


def fig_mode_coverage(bench: Benchmark, models: list[str], path: Path) -> Path | None:
    names = bench.metric_names()
    fracs = sorted((m for m in names if is_class_frac(m)), key=class_frac_index)
    have_modes = "modes_covered" in names
    if not fracs and not have_modes:
        return None
    if fracs and have_modes:
        fig = Figure(layout="constrained", figsize=(13.5, 4.8))
        axes = list(fig.subplots(1, 2, squeeze=False, gridspec_kw={"width_ratios": [2, 1]})[0])
    else:
        fig = Figure(layout="constrained", figsize=(7.5, 4.8) if fracs else (max(5.0, 1.1 * len(models) + 2.5), 4.8))
        axes = [fig.subplots()]
    colors = _colors()
    if fracs:
        ax = axes.pop(0)
        k = len(fracs)
        ms = [m for m in models if any(bench.values(m, f).size for f in fracs)]
        if k <= 30:
            width = 0.8 / max(1, len(ms))
            x = np.arange(k)
            for i, m in enumerate(ms):
                stats = [mean_std(bench.values(m, f)) for f in fracs]
                mean = np.array([s[0] for s in stats])
                std = np.nan_to_num(np.array([s[1] for s in stats]))
                ax.bar(x - 0.4 + width * (i + 0.5), mean, width, yerr=std, capsize=1.5, label=m,
                       color=colors[i % len(colors)], error_kw={"lw": 0.7})
            ax.set_xticks(x)
            ax.set_xticklabels(_class_names(bench, k), rotation=35, ha="right", fontsize=8)
            ax.set_xlabel("class assigned by the evaluator")
        else:
            for i, m in enumerate(ms):
                mean = np.sort(np.array([mean_std(bench.values(m, f))[0] for f in fracs]))[::-1]
                ax.plot(np.arange(1, k + 1), mean, label=m, color=colors[i % len(colors)])
            ax.set_xlabel("class rank")
        ax.axhline(1 / k, ls="--", color="black", lw=1, label=f"uniform (1/{k})")
        ax.set_ylabel("fraction of samples")
        ax.set_title("class histogram of the samples (mean ± std over seeds)", fontsize=10)
        ax.legend(fontsize=8, ncol=2)
        ax.grid(alpha=0.3, axis="y")
    if have_modes:
        ax = axes.pop(0)
        ms = [m for m in models if bench.values(m, "modes_covered").size]
        totals = [r.metrics["modes_total"] for r in bench.ok_runs if "modes_total" in r.metrics]
        total = totals[0] if totals else bench.modes_total
        for i, m in enumerate(ms):
            v = bench.values(m, "modes_covered")
            mean, std = mean_std(v)
            ax.bar(i, mean, 0.6, yerr=0 if math.isnan(std) else std, capsize=4, color=colors[i % len(colors)])
            ax.scatter(np.full(len(v), i) + np.linspace(-0.12, 0.12, len(v)), v, color="black", s=12, zorder=3)
        if total:
            ax.axhline(total, ls="--", color="black", lw=1, label=f"all {fmt(total)} modes")
            ax.legend(fontsize=8, loc="lower right")
        ax.set_xticks(range(len(ms)))
        ax.set_xticklabels([f"{m}\n{fmt_mean_std(*mean_std(bench.values(m, 'modes_covered')))}" for m in ms], fontsize=9)
        ax.set_ylabel("modes covered" + (f" (of {fmt(total)})" if total else ""))
        ax.set_title("modes covered (bars: mean ± std; dots: seeds)", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{bench.name}: mode coverage", fontsize=12)
    return save_figure(fig, path)


def mixture(dataset: str) -> tuple[np.ndarray, float] | None:
    """The true means (K, 2) and std of a 2-D mixture, as its data says (the ``meta`` of its test
    split); None when the data cannot be loaded or does not say."""
    from genzoo.data import load  # noqa: PLC0415

    try:
        meta = load(dataset, split="test").meta
    except Exception:   # a dataset no longer registered, or options it cannot take: no true modes drawn
        return None
    if meta.get("means") is None or meta.get("std") is None:
        return None
    return np.asarray(meta["means"], dtype=float), float(meta["std"])


def fig_samples_over_modes(bench: Benchmark, models: list[str], path: Path, problems: Problems) -> Path | None:
    """Mixtures of points (``mode_count == "points"``): each model's samples over the true modes."""
    if not bench.is_mixture:
        return None
    panels = []
    for m in models:
        for run in bench.runs_of(m):
            pts = load_points(run, problems)
            if pts is not None:
                panels.append((m, run, pts))
                break
    if not panels:
        return None
    true = mixture(bench.dataset)
    if true is None:
        problems.append(f"the true modes of {bench.dataset!r} could not be read from its data: samples over modes not drawn")
        return None
    means, std = true
    rng = np.random.default_rng(0)
    real = means[rng.integers(len(means), size=2500)] + std * rng.standard_normal((2500, 2))
    lim = float(np.abs(means).max()) * 1.4 + 0.1
    fig, axes = _panels(len(panels) + 1, 4, 3.8, 4.0,
                        f"{bench.name}: 2,500 samples (first training seed) over the {len(means)} true modes")
    for ax, (title, pts) in zip(axes, [("true mixture", real)] + [
            (f"{m} (seed {run.seed})" + (f"\nmodes covered {fmt(run.metrics['modes_covered'])}/{len(means)}"
                                         if "modes_covered" in run.metrics else ""), p) for m, run, p in panels]):
        inside = (np.abs(pts) <= lim).all(axis=1)
        ax.scatter(means[:, 0], means[:, 1], marker="+", s=120, color="red", lw=1, label="true means", zorder=1)
        ax.scatter(pts[inside, 0], pts[inside, 1], s=3, alpha=0.4, color="tab:blue", rasterized=True, zorder=2)
        for mu in means:
            ax.add_patch(Circle(mu, 3 * std, fill=False, color="red", lw=0.6, alpha=0.6))
        out = int((~inside).sum())
        if out:
            title += f"\n({out} of {len(pts)} outside the view)"
        ax.set_title(title, fontsize=9)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.grid(alpha=0.25)
    axes[0].legend(fontsize=7, loc="upper right")
    return save_figure(fig, path)


def fig_cgan_per_class(bench: Benchmark, path: Path, problems: Problems) -> Path | None:
    """cGAN's own sample grid: row k was generated for class k (image benchmarks)."""
    if bench.is_points:
        return None
    img, run = None, None
    for r in bench.runs_of("cgan"):
        img = load_image(r, ("samples.png", "samples.pt"), problems)
        if img is not None:
            run = r
            break
    if img is None:
        return None
    per_class: dict[str, list[float]] = {}
    for r in bench.runs_of("cgan"):
        for name, d in (r.record.per_class or {}).items():
            a = d.get("accuracy") if isinstance(d, dict) else d
            if isinstance(a, (int, float)) and math.isfinite(a):
                per_class.setdefault(str(name), []).append(float(a))
    k = bench.num_classes or len(per_class)
    names = list(per_class) if len(per_class) == k else _class_names(bench, k)
    rows = len(names)
    fig = Figure(layout="constrained", figsize=(6.5, 7.5))
    ax = fig.subplots()
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    h = img.shape[0]
    ax.set_yticks([(i + 0.5) * h / rows for i in range(rows)])
    ax.set_yticklabels([f"{n} (acc {fmt(float(np.mean(per_class[n])))})" if n in per_class else n for n in names],
                       fontsize=9)
    ax.set_xticks([])
    acc = run.metrics.get("label_accuracy")
    ax.set_title(f"{bench.name}: cGAN, row k generated for class k (seed {run.seed})"
                 + (f"\nlabel accuracy of this run {fmt(acc)}" if acc is not None else "")
                 + ("\nper-class accuracy: mean over seeds" if per_class else ""), fontsize=10)
    return save_figure(fig, path)


def fig_ae_vs_vae(bench: Benchmark, path: Path, problems: Problems) -> Path | None:
    """Decodes of z ~ N(0, I): the AE's (``samples_normal_prior``) beside the VAE's (its samples);
    between them, when recorded, the AE's own samples (codes from a Gaussian fitted to its codes)."""
    if bench.is_points:
        return None

    def first(model, names):
        for r in bench.runs_of(model):
            img = load_image(r, names, problems)
            if img is not None:
                return r, img
        return None, None

    ae_run, ae = first("ae", ("samples_normal_prior.pt", "samples_normal_prior.png"))
    vae_run, vae = first("vae", ("samples.pt", "samples.png"))
    if ae is None or vae is None:
        return None
    fitted = load_image(ae_run, ("samples.pt", "samples.png"), problems)
    panels = [(ae, f"AE: decoder(z), z ~ N(0, I) (seed {ae_run.seed})\n"
                   f"fid_normal_prior {fmt_mean_std(*mean_std(bench.values('ae', 'fid_normal_prior')))}")]
    if fitted is not None:
        panels.append((fitted, f"AE: z ~ Gaussian fitted to its codes\nfid {fmt_mean_std(*mean_std(bench.values('ae', 'fid')))}"))
    panels.append((vae, f"VAE: decoder(z), z ~ N(0, I) (seed {vae_run.seed})\n"
                        f"fid {fmt_mean_std(*mean_std(bench.values('vae', 'fid')))}"))
    fig = Figure(layout="constrained", figsize=(4.8 * len(panels), 5.4))
    axes = fig.subplots(1, len(panels))
    for ax, (img, title) in zip(axes, panels):
        _imshow(ax, img, title)
    fig.suptitle(f"{bench.name}: AE vs VAE, decodes of standard-normal codes (FID: mean ± std over seeds)", fontsize=11)
    return save_figure(fig, path)


def make_figures(bench: Benchmark, models: list[str] | None = None, figdir: Path | None = None,
                 problems: Problems | None = None) -> dict[str, Path]:
    """Draw every figure that the records allow; returns {figure key: path}.

    Figures the records no longer allow are removed from ``figdir`` so none is left stale.
    ``models`` sets the panel order (default: the records' order).
    """
    models = list(models) if models is not None else bench.models
    figdir = Path(figdir) if figdir is not None else bench.dir / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    problems = problems if problems is not None else Problems()
    draw = {
        "samples": lambda p: None if bench.is_mixture else fig_samples(bench, models, p, problems),
        "training_curves": lambda p: fig_training_curves(bench, models, p, problems),
        "precision_recall": lambda p: fig_precision_recall(bench, models, p),
        "mode_coverage": lambda p: fig_mode_coverage(bench, models, p),
        "samples_over_modes": lambda p: fig_samples_over_modes(bench, models, p, problems),
        "cgan_per_class": lambda p: fig_cgan_per_class(bench, p, problems),
        "ae_vs_vae_prior": lambda p: fig_ae_vs_vae(bench, p, problems),
    }
    out = {}
    for key, fn in draw.items():
        path = figdir / FIGURES[key]
        if fn(path) is not None:
            out[key] = path
        else:
            path.unlink(missing_ok=True)
    return out
