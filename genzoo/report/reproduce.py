"""The reproduction check: a user's run of a benchmark beside the committed reference of the same
profile, metric by metric, saying whether the two agree within the seeds' spread, with the
family-wise error over all the check's comparisons held at :data:`ALPHA` (Holm–Bonferroni)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import Benchmark, is_class_frac, is_prior_metric, load_benchmark
from .summary import fmt_mean_std, fmt_p, mean_std

AGREE, DIFFER, CANNOT_TELL = "agree", "differ", "cannot tell"
ALPHA = 0.05   # family-wise: the chance that a check of an unchanged setup shows any "differ" at all
RTOL = 1e-5    # means this close (relative) agree outright: CPU kernels round differently, and genzoo
#                holds its committed numbers to this across CPUs
RTOL_TEXT = f"{RTOL:g}".replace("e-0", "e-")

RULE = ("each (model, metric) is a two-sided Welch t-test (`scipy.stats.ttest_ind`, `equal_var=False`) of "
        "the two sides' seeds (a side with one seed borrows the other's spread), and they differ when "
        "Holm-adjusted p < {alpha:g} over the {n} comparisons (Holm–Bonferroni: an unchanged setup shows any "
        "*differ* at all with a chance of at most {alpha:g}); the rest agree. Means equal within {rtol} "
        "relative agree outright (p = 1: CPU kernels round differently); with no spread on either side, "
        "unequal means get p = 0; one seed on each side, unequal, cannot tell (no p, not counted)")


@dataclass
class Row:
    model: str
    metric: str
    ours: np.ndarray
    reference: np.ndarray
    verdict: str
    why: str = ""
    p: float = math.nan        # two-sided, of this comparison alone (NaN: cannot tell)
    p_adj: float = math.nan    # Holm-adjusted over all the comparisons of the check


def _profiles(bench: Benchmark) -> set[str]:
    return {str(r.record.profile) for r in bench.ok_runs}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


def _t_p(diff: float, se: float, df: float) -> float:
    from scipy import stats  # noqa: PLC0415

    return float(2 * stats.t.sf(abs(diff) / se, df))


def _welch(ours: np.ndarray, ref: np.ndarray) -> float:
    from scipy import stats  # noqa: PLC0415

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(stats.ttest_ind(ours, ref, equal_var=False).pvalue)


def comparison_p(ours: np.ndarray, ref: np.ndarray) -> tuple[float, str]:
    """``(p, why)`` of one comparison: the two-sided Welch t-test of the means; NaN when it cannot
    tell. A side with one value borrows the other side's spread (a t-test with that side's degrees
    of freedom); means equal within :data:`RTOL` relative give p = 1; with no spread on either side,
    unequal means give p = 0, and with one value on each side, unequal, it cannot tell."""
    if not ours.size or not ref.size:
        return math.nan, "no values on one side"
    m1, s1 = mean_std(ours)
    m2, s2 = mean_std(ref)
    diff = m1 - m2
    if _close(m1, m2):
        return 1.0, f"means equal within {RTOL_TEXT} relative"
    if ours.size == 1 and ref.size == 1:
        return math.nan, "one seed on each side: no spread to judge by"
    if ours.size == 1 or ref.size == 1:
        s, n = (s2, ref.size) if ours.size == 1 else (s1, ours.size)
        se = s * math.sqrt(1 + 1 / n)
        p = _t_p(diff, se, n - 1) if se > 0 else 0.0
    else:
        se = math.sqrt(s1 ** 2 / ours.size + s2 ** 2 / ref.size)
        p = _welch(ours, ref) if se > 0 else 0.0
    if se == 0:
        return p, "no spread, different means"
    return p, f"difference {diff:+.3g} = {diff / se:+.1f} standard errors"


def holm(pvalues) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN stays NaN and is not counted): the k-th smallest of m
    becomes max over j <= k of min(1, (m - j + 1) p_(j)); reject where the adjusted p < alpha."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, math.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adjusted) if m else adjusted
    return out


def _verdict(p_adj: float) -> str:
    if math.isnan(p_adj):
        return CANNOT_TELL
    return DIFFER if p_adj < ALPHA else AGREE


def compare_values(ours: np.ndarray, ref: np.ndarray) -> tuple[str, str]:
    """``(verdict, why)`` of one comparison judged alone (a family of one: no correction)."""
    p, why = comparison_p(np.asarray(ours, dtype=float), np.asarray(ref, dtype=float))
    return _verdict(p), why


def reproduction(ours: Benchmark, reference: Benchmark) -> list[Row]:
    """One row per (model, metric) both benchmarks measured, for the models both ran; each row's
    verdict by its Holm-adjusted p over all the rows (see :data:`RULE`)."""
    rows = []
    metrics = [m for m in ours.metric_names() if not is_class_frac(m) and not is_prior_metric(m)
               and m in reference.metric_names() and not m.endswith("_std")]
    for model in ours.models:
        if not reference.runs_of(model):
            continue
        for metric in metrics:
            a, b = ours.values(model, metric), reference.values(model, metric)
            if a.size and b.size:
                p, why = comparison_p(a, b)
                rows.append(Row(model, metric, a, b, CANNOT_TELL, why, p))
    for r, p_adj in zip(rows, holm([r.p for r in rows])):
        r.p_adj, r.verdict = float(p_adj), _verdict(float(p_adj))
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


def _row_markdown(r: Row) -> str:
    a, b = mean_std(r.ours), mean_std(r.reference)
    verdict = "**differ**" if r.verdict == DIFFER else r.verdict
    why = f" ({r.why})" if r.why and r.verdict != AGREE else ""
    return (f"| {r.model} | {r.metric} | {fmt_mean_std(*a)} (n={r.ours.size}) | {fmt_mean_std(*b)} "
            f"(n={r.reference.size}) | {verdict}{why} | {fmt_p(r.p)} | {fmt_p(r.p_adj)} |")


def _plans(bench: Benchmark, model: str) -> set[str]:
    """The distinct plans (config overrides and runner settings, whatever the seed) of a model's runs."""
    return {json.dumps({"overrides": (r.record.plan or {}).get("overrides"),
                        "settings": (r.record.plan or {}).get("settings")}, sort_keys=True, default=str)
            for r in bench.runs_of(model, ok_only=False)}


def planned_otherwise(ours: Benchmark, reference: Benchmark) -> list[str]:
    """The models both sides ran whose runs here were planned otherwise than the reference's (other
    config overrides or runner settings: another budget, other searched settings); records without
    a plan are not compared."""
    out = []
    for model in sorted(set(ours.models) & set(reference.models)):
        mine, theirs = _plans(ours, model), _plans(reference, model)
        if mine and theirs and json.dumps({"overrides": None, "settings": None}) not in mine | theirs \
                and mine != theirs:
            out.append(model)
    return out


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
    tested = sum(not math.isnan(r.p) for r in rows)
    out += [f"These runs beside the committed reference `{reference_dir}/{reference.name}` (profile "
            f"{', '.join(same)}): " + RULE.format(alpha=ALPHA, n=tested, rtol=RTOL_TEXT) + ". "
            f"{counts[AGREE]} agree, {counts[DIFFER]} differ, {counts[CANNOT_TELL]} cannot tell.", ""]
    otherwise = planned_otherwise(ours, ref)
    if otherwise:
        out += [f"Planned otherwise than the reference (other config overrides or run settings in the records' "
                f"`plan`: another budget or other searched settings): {', '.join(otherwise)}. For these the "
                "check compares two protocols: a difference may be the protocol's, and an agreement does not "
                "make them the same.", ""]
    out += ["| model | metric | these runs | reference | verdict | p | Holm-adjusted p |", "|---|---|---|---|---|---|---|"]
    return out + [_row_markdown(r) for r in rows] + [""]
