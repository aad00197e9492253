"""The summary table: one row per model, every metric as mean ± std over the seeds' ok runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .records import TARGETS, Benchmark, is_class_frac


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; NaN when there are fewer than 2 values)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), (float(v.std(ddof=1)) if v.size >= 2 else math.nan)


def summary_frame(bench: Benchmark) -> pd.DataFrame:
    """Columns ``model``, ``n`` (ok runs), then ``<metric>_mean``, ``<metric>_std`` for each metric.

    Rows are sorted by the primary metric, best first (models without a value last). ``attrs``
    holds ``benchmark``, ``primary``, ``metrics``, ``higher_is_better`` and ``counts``:
    (model, metric) -> how many of the ok runs recorded the metric (fewer than n when some runs
    predate it).
    """
    metrics = bench.metric_names()
    primary = bench.primary_metric()
    rows, counts = [], {}
    for model in bench.models:
        row = {"model": model, "n": len(bench.runs_of(model))}
        for m in metrics:
            values = bench.values(model, m)
            row[f"{m}_mean"], row[f"{m}_std"] = mean_std(values)
            counts[(model, m)] = len(values)
        rows.append(row)
    cols = ["model", "n"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")]
    df = pd.DataFrame(rows, columns=cols)
    if primary is not None and len(df):
        hib = bench.higher_is_better(primary)
        key = df[f"{primary}_mean"]
        key = -key if hib is not False else key          # best first; unknown direction: higher first
        df = df.assign(_k=key.fillna(math.inf)).sort_values(["_k", "model"], kind="mergesort").drop(columns="_k")
    df = df.reset_index(drop=True)
    df["n"] = df["n"].astype(int)
    df.attrs.update(benchmark=bench.name, primary=primary, metrics=metrics, counts=counts,
                    higher_is_better={m: bench.higher_is_better(m) for m in metrics})
    return df


def fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if v == 0:
        return "0"
    if abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def fmt_mean_std(mean: float, std: float) -> str:
    """``mean ± std`` with the std to 2 significant digits and the mean to the same decimals."""
    if not math.isfinite(mean):
        return "–"
    if not math.isfinite(std):
        return fmt(mean)
    if std == 0:
        return f"{fmt(mean)} ± 0"
    exponent = int(f"{abs(std):.1e}".split("e")[1])        # of std rounded to 2 significant digits
    decimals = min(8, max(0, 1 - exponent))
    if abs(mean) >= 1e6:
        return f"{fmt(mean)} ± {fmt(std)}"
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def best_models(df: pd.DataFrame, metric: str, higher_is_better: bool | None) -> set[str]:
    """Models whose mean of ``metric`` is the best (ties included): the highest or lowest, or the
    closest to the metric's target (``TARGETS``); none when it has neither direction nor target."""
    target = TARGETS.get(metric)
    if (higher_is_better is None and target is None) or is_class_frac(metric):
        return set()
    col = df[f"{metric}_mean"]
    if col.notna().sum() == 0:
        return set()
    if target is not None:
        col = -(col - target).abs()      # closest to the target = largest
        higher_is_better = True
    best = col.max() if higher_is_better else col.min()
    return set(df.loc[col == best, "model"])


def markdown_table(df: pd.DataFrame, metrics: list[str], *, bold_best: bool = True) -> str:
    """A markdown table of ``model``, ``n`` and ``mean ± std`` per metric (best mean in bold); a
    cell over fewer of the model's ok runs than n says over how many (``(n = 2)``)."""
    hib = df.attrs.get("higher_is_better", {})
    counts = df.attrs.get("counts", {})
    arrows = {True: " ↑", False: " ↓", None: ""}
    head = ["model", "n"] + [m if is_class_frac(m) else
                             f"{m} →{TARGETS[m]:g}" if m in TARGETS else f"{m}{arrows[hib.get(m)]}" for m in metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best = {m: best_models(df, m, hib.get(m)) if bold_best else set() for m in metrics}
    for _, row in df.iterrows():
        cells = [str(row["model"]), str(int(row["n"]))]
        for m in metrics:
            s = fmt_mean_std(row[f"{m}_mean"], row[f"{m}_std"])
            s = f"**{s}**" if row["model"] in best[m] else s
            k = counts.get((row["model"], m), row["n"])
            cells.append(f"{s} (n = {k})" if 0 < k < row["n"] else s)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def fmt_p(p: float) -> str:
    """A p-value for a table: ``< 1e-4``, four decimals, or ``–`` when there is none (NaN)."""
    if not math.isfinite(p):
        return "–"
    return "< 1e-4" if p < 1e-4 else f"{p:.4f}"
