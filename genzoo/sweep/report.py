"""The sweep report: per model the best value over the trials and its settings, the distribution
over trials, the expected best against the number of trials (Lucic et al. 2018's "FID against
budget", with a bootstrap interval) and the best setting re-run with several seeds, which is
what a comparison of models uses. Reads the records a sweep wrote (each with a ``sweep`` entry:
trial, space, sweep seed, settings)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import write_text
from ..bench.sweep_settings import best_trial
from .stats import budget_curve


@dataclass
class ModelSweep:
    model: str
    trials: dict[int, dict] = field(default_factory=dict)        # trial -> {"settings", "value", "status"}
    reruns: dict[int, float | None] = field(default_factory=dict)  # seed -> value of the best trial's re-runs
    best_trial: int | None = None

    @property
    def values(self) -> list[float]:
        return [t["value"] for _, t in sorted(self.trials.items()) if _finite(t["value"])]

    def best_value(self) -> float | None:
        return None if self.best_trial is None else self.trials[self.best_trial]["value"]

    def rerun_stats(self) -> tuple[float, float, int] | None:
        vals = [v for v in self.reruns.values() if _finite(v)]
        if not vals:
            return None
        return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan"), len(vals)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def collect(records, metric: str = "fid", lower_is_better: bool = True) -> dict[str, ModelSweep]:
    """Records of one sweep (:class:`~genzoo.bench.record.RunRecord`) -> per model its trials (the
    run with the trial's first seed) and the re-runs of its best trial. A run that failed or
    diverged is a trial without a value."""
    out: dict[str, ModelSweep] = {}
    first_seed: dict[tuple[str, int], int] = {}
    by_seed: dict[tuple[str, int], dict[int, float | None]] = {}      # (model, trial) -> seed -> value
    for rec in records:
        sw = rec.sweep or {}
        if "trial" not in sw:
            continue
        model, t, seed = rec.model, int(sw["trial"]), int(rec.seed or 0)
        ms = out.setdefault(model, ModelSweep(model))
        value = (rec.metrics or {}).get(metric) if rec.status == "ok" else None
        key = (model, t)
        if key not in first_seed or seed < first_seed[key]:
            first_seed[key] = seed
            ms.trials[t] = {"settings": dict(sw.get("settings") or {}), "value": value, "status": rec.status,
                            "seed": seed}
        by_seed.setdefault(key, {})[seed] = value
    for ms in out.values():        # ranked as a profile's settings_from ranks them: a tie to the earlier trial
        ms.best_trial = best_trial({t: v["value"] for t, v in ms.trials.items()}, lower_is_better)
        if ms.best_trial is not None:
            ms.reruns = dict(by_seed[(ms.model, ms.best_trial)])
    return out


def _matplotlib():
    """matplotlib's ``Figure`` and genzoo's ``save_figure``, or (None, None) where matplotlib is not
    installed (a bare GPU machine, ``genzoo.gpu``: the report then has no figures)."""
    try:
        from matplotlib.figure import Figure

        from ..report.figures import save_figure
    except ImportError:
        return None, None
    return Figure, save_figure


def fig_distribution(sweeps: dict[str, ModelSweep], metric: str, path: Path) -> Path | None:
    models = [m for m in sorted(sweeps) if sweeps[m].values]
    Figure, save_figure = _matplotlib()
    if not models or Figure is None:
        return None
    fig = Figure(figsize=(1.4 * len(models) + 2.5, 4))
    ax = fig.add_subplot()
    data = [sweeps[m].values for m in models]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(models) + 1), models, rotation=30)
    rng = np.random.default_rng(0)
    for i, vals in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(vals)), vals, s=10, alpha=0.6, color="C0")
        if sweeps[models[i - 1]].trials.get(0, {}).get("value") is not None:
            ax.scatter([i], [sweeps[models[i - 1]].trials[0]["value"]], marker="*", s=90, color="C3",
                       label="trial 0 (defaults)" if i == 1 else None)
    if all(v > 0 for vals in data for v in vals):
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} over the trials of each model")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def fig_budget(curves: dict[str, list[dict]], metric: str, path: Path) -> Path | None:
    curves = {m: c for m, c in curves.items() if c}
    Figure, save_figure = _matplotlib()
    if not curves or Figure is None:
        return None
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for i, (model, rows) in enumerate(sorted(curves.items())):
        k = [r["k"] for r in rows]
        ax.plot(k, [r["expected_best"] for r in rows], color=f"C{i % 10}", label=model)
        ax.fill_between(k, [r["low"] for r in rows], [r["high"] for r in rows], color=f"C{i % 10}", alpha=0.15)
    ax.set_xlabel("number of trials (budget)")
    ax.set_ylabel(f"expected best {metric}")
    ax.set_title(f"{metric} against budget (Lucic et al. 2018), 95% bootstrap interval")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def _fmt(v, digits: int = 4) -> str:
    return "–" if not _finite(v) else f"{v:.{digits}g}"


def write_report(folder: str | Path, records, *, metric: str = "fid", lower_is_better: bool = True,
                 title: str = "", n_boot: int = 1000, literature: dict[str, str] | None = None) -> Path:
    """``sweep.md``, ``sweep.csv`` and two figures in ``folder``; returns the markdown's path."""
    folder = Path(folder)
    sweeps = collect(records, metric, lower_is_better)
    curves = {m: budget_curve(s.values, lower_is_better=lower_is_better, n_boot=n_boot) for m, s in sweeps.items()}
    figs = folder / "figures"
    dist = fig_distribution(sweeps, metric, figs / "sweep_distribution.png")
    budget = fig_budget(curves, metric, figs / "sweep_budget.png")
    arrow = "lower is better" if lower_is_better else "higher is better"
    lines = [f"# Sweep: {title}" if title else "# Sweep", "",
             "Generated by `genzoo sweep` from the trials' run records (never edited by hand). Random search "
             "as in Lucic et al. 2018 / compare_gan v1: trial 0 is each model's defaults, the others draws "
             f"from its search space (`genzoo sweep --show-space MODEL`). {metric}: {arrow}.", "",
             "| model | trials (ok) | best " + metric + " | best trial | re-run of the best: mean ± std (n) | "
             "trial 0 (defaults) | best settings |", "|---|---|---|---|---|---|---|"]
    for model in sorted(sweeps):
        s = sweeps[model]
        rr = s.rerun_stats()
        rr_txt = "–" if rr is None else f"{_fmt(rr[0])} ± {_fmt(rr[1], 2)} ({rr[2]})"
        best = s.trials.get(s.best_trial, {}).get("settings") if s.best_trial is not None else None
        settings = ", ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}" for k, v in sorted((best or {}).items()))
        lines.append(f"| {model} | {len(s.trials)} ({len(s.values)}) | {_fmt(s.best_value())} | "
                     f"{'–' if s.best_trial is None else s.best_trial} | {rr_txt} | "
                     f"{_fmt(s.trials.get(0, {}).get('value'))} | {settings or ('defaults' if best == {} else '–')} |")
    ks = sorted({r["k"] for rows in curves.values() for r in rows})
    shown = [k for k in ks if k in (1, 2, 5, 10, 20, 50, 100) or k == ks[-1]]
    if shown:
        lines += ["", f"## Expected best {metric} against the number of trials", "",
                  "The expected best of k trials drawn at random from those run (with replacement), with a 95% "
                  "percentile bootstrap interval over the trials: how the ranking depends on the budget.", "",
                  "| model | " + " | ".join(f"k = {k}" for k in shown) + " |", "|---|" + "---|" * len(shown)]
        for model in sorted(curves):
            by_k = {r["k"]: r for r in curves[model]}
            lines.append(f"| {model} | " + " | ".join(
                f"{_fmt(by_k[k]['expected_best'])} [{_fmt(by_k[k]['low'], 3)}, {_fmt(by_k[k]['high'], 3)}]"
                if k in by_k else "–" for k in shown) + " |")
    if literature:
        lines += ["", "## Published", ""] + [f"- {m}: {txt}" for m, txt in sorted(literature.items())]
    lines += ["", "## Figures", ""]
    for p, what in ((dist, "distribution over the trials"), (budget, "expected best against budget")):
        if p is not None:
            lines.append(f"![{what}](figures/{p.name})")
    rows = ["model,trial,status,seed," + metric + ",settings"]
    for model in sorted(sweeps):
        for t, tr in sorted(sweeps[model].trials.items()):
            settings = ";".join(f"{k}={v}" for k, v in sorted(tr["settings"].items()))
            rows.append(f"{model},{t},{tr['status']},{tr['seed']},{'' if tr['value'] is None else tr['value']},{settings}")
    write_text(folder / "sweep.csv", "\n".join(rows) + "\n")
    return write_text(folder / "sweep.md", "\n".join(lines) + "\n")
