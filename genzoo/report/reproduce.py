"""The reproduction check: a user's run of a benchmark beside the committed reference of the same
profile, metric by metric, saying whether the two agree within the seeds' spread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import Benchmark, is_class_frac, is_prior_metric, load_benchmark
from .summary import fmt_mean_std, mean_std

AGREE, DIFFER, CANNOT_TELL = "agree", "differ", "cannot tell"
Z = 2.0        # agree: |difference of the means| <= Z standard errors of that difference (about 95%)


@dataclass
class Row:
    model: str
    metric: str
    ours: np.ndarray
    reference: np.ndarray
    verdict: str
    why: str = ""


def _profiles(bench: Benchmark) -> set[str]:
    return {str(r.record.profile) for r in bench.ok_runs}


def compare_values(ours: np.ndarray, ref: np.ndarray) -> tuple[str, str]:
    """``(verdict, why)``: agree when the means differ by at most :data:`Z` standard errors of the
    difference (Welch's: sqrt(s1²/n1 + s2²/n2)); a side with one value borrows the other side's
    spread; with one value on both sides, or no spread at all, it cannot tell (unless equal)."""
    if not ours.size or not ref.size:
        return CANNOT_TELL, "no values on one side"
    m1, s1 = mean_std(ours)
    m2, s2 = mean_std(ref)
    if ours.size == 1 and ref.size == 1:
        return (AGREE, "equal") if m1 == m2 else (CANNOT_TELL, "one seed on each side: no spread to judge by")
    s1 = s2 if ours.size == 1 else s1
    s2 = s1 if ref.size == 1 else s2
    se = math.sqrt(s1 ** 2 / ours.size + s2 ** 2 / ref.size)
    diff = m1 - m2
    if se == 0:
        return (AGREE, "identical") if diff == 0 else (DIFFER, "no spread, different means")
    return (AGREE if abs(diff) <= Z * se else DIFFER), f"difference {diff:+.3g} = {diff / se:+.1f} standard errors"


def reproduction(ours: Benchmark, reference: Benchmark) -> list[Row]:
    """One row per (model, metric) both benchmarks measured, for the models both ran."""
    rows = []
    metrics = [m for m in ours.metric_names() if not is_class_frac(m) and not is_prior_metric(m)
               and m in reference.metric_names() and not m.endswith("_std")]
    for model in ours.models:
        if not reference.runs_of(model):
            continue
        for metric in metrics:
            a, b = ours.values(model, metric), reference.values(model, metric)
            if a.size and b.size:
                verdict, why = compare_values(a, b)
                rows.append(Row(model, metric, a, b, verdict, why))
    return rows


def reference_benchmark(name: str, results_dir, reference_dir) -> Benchmark | None:
    """The reference records of the same benchmark and profile, or None (none, or the same folder)."""
    if reference_dir is None or Path(reference_dir).resolve() == Path(results_dir).resolve():
        return None
    try:
        ref = load_benchmark(name, reference_dir)
    except Exception:
        return None
    return ref


def same_profiles(ours: Benchmark, reference: Benchmark) -> Benchmark | None:
    """The reference's runs of the profiles these runs have, or None when it has none of them."""
    same = _profiles(ours) & _profiles(reference)
    if not same:
        return None
    return Benchmark(reference.name, reference.dir, [r for r in reference.runs if r.record.profile in same],
                     reference.incomplete)


def reproduction_markdown(ours: Benchmark, reference: Benchmark, reference_dir) -> list[str]:
    out = ["## Reproduction check", ""]
    ref = same_profiles(ours, reference)
    if ref is None:
        return out + [f"The reference in `{reference_dir}/{reference.name}` is of profile(s) "
                      f"{', '.join(sorted(_profiles(reference))) or 'none'}, these runs of "
                      f"{', '.join(sorted(_profiles(ours)))}: nothing to compare.", ""]
    same = sorted(_profiles(ref))
    rows = reproduction(ours, ref)
    counts = {v: sum(r.verdict == v for r in rows) for v in (AGREE, DIFFER, CANNOT_TELL)}
    out += [f"These runs beside the committed reference `{reference_dir}/{reference.name}` (profile "
            f"{', '.join(same)}): a metric *agrees* when the two means differ by at most {Z:g} standard errors "
            "of their difference (the seeds' spread; a side with one seed borrows the other's). "
            f"{counts[AGREE]} agree, {counts[DIFFER]} differ, {counts[CANNOT_TELL]} cannot tell.", "",
            "| model | metric | these runs | reference | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        a, b = mean_std(r.ours), mean_std(r.reference)
        out.append(f"| {r.model} | {r.metric} | {fmt_mean_std(*a)} (n={r.ours.size}) | "
                   f"{fmt_mean_std(*b)} (n={r.reference.size}) | {'**differ**' if r.verdict == DIFFER else r.verdict}"
                   f"{f' ({r.why})' if r.why and r.verdict != AGREE else ''} |")
    return out + [""]
