"""How a claim gets its verdict: per-seed values compared by a one-sided test (:func:`compare`), a
claim's comparisons combined (:func:`combine`), the distribution-free permutation check beside
each t-test, and the rule as the reports print it (:data:`VERDICT_RULE`). The claims themselves
are in :mod:`genzoo.report.claims` (and :mod:`genzoo.report.within_class`), which build on this."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from .records import Benchmark
from .summary import fmt, fmt_p

__all__ = ["ALPHA", "DOES_NOT_HOLD", "EXACT_MAX", "HOLDS", "INCONCLUSIVE", "MIN_N", "MONTE_CARLO_DRAWS",
           "EXACT_NAMES", "MONTE_CARLO_SEED", "TEST_NAMES", "VERDICT_RULE", "Claim", "Comparison", "combine", "compare", "exact_test",
           "no_runs_note", "p_eq", "worse"]

HOLDS = "HOLDS"
DOES_NOT_HOLD = "DOES NOT HOLD"
INCONCLUSIVE = "INCONCLUSIVE"

ALPHA = 0.05
MIN_N = 3
EXACT_MAX = 100_000          # the permutation test enumerates every relabeling up to this many...
MONTE_CARLO_DRAWS = 100_000  # ...else draws this many at random (seed MONTE_CARLO_SEED)
MONTE_CARLO_SEED = 0

VERDICT_RULE = f"""\
Each claim is one or more comparisons of per-seed values (one value per ok run; runs that
diverged, failed or were skipped are not values). For each comparison:

- **INCONCLUSIVE** when a side has no values (the model has no ok run, or the metric was not
  recorded): the reason says which.
- **DOES NOT HOLD** when the difference of the means does not have the claimed sign (a zero
  difference included), whatever the sample size: the data contradicts the claim.
- **HOLDS** when the difference has the claimed sign, both sides have n ≥ {MIN_N} and the
  one-sided test gives p < {ALPHA}.
- **INCONCLUSIVE** otherwise: the sign is right but n < {MIN_N} (with n < 2 the test is not
  possible) or p ≥ {ALPHA}.

Tests (scipy.stats, one-sided, alternative = the claimed direction): two models → Welch's
t-test (`ttest_ind`, `equal_var=False`); two metrics of the same runs → paired t-test
(`ttest_rel`) over the seeds that have both; a metric against a fixed bar → one-sample t-test
(`ttest_1samp`). When both sides have zero spread and differ, t is infinite and p = 0. The
t-tests assume that each side's mean over its few seeds is normally distributed.

Beside each t-test, and not part of the verdict, a distribution-free check: an exact permutation
test over the seeds, one-sided in the claimed direction, with the difference of the means as its
statistic. Two models: all C(n1 + n2, n1) relabelings of the pooled seeds into groups of n1 and
n2; two metrics of the same runs: all 2^n sign flips of the per-seed differences; a metric
against a fixed bar: all 2^n sign flips of (value − bar). Its p is the share of relabelings whose
statistic is at least as far in the claimed direction as the observed one (itself included), so it
cannot go below 1 / (number of relabelings): 1/C(6, 3) = 0.05 for 3 seeds against 3, 1/2^3 =
0.125 for 3 paired seeds or 3 seeds against a bar, so with 3 seeds it can never reach p < {ALPHA}.
Above {EXACT_MAX:,} relabelings it draws {MONTE_CARLO_DRAWS:,} at random (seed {MONTE_CARLO_SEED}), p = (1 + those
at least as far) / (1 + {MONTE_CARLO_DRAWS:,}), and the table says so. When the two disagree (the t-test's p < {ALPHA}, the permutation test's not), the
verdict rests on the t-test's assumption of normally distributed means: either the seeds are too
few for the permutation test to reach {ALPHA} at all (a note under the table says so), or the
order of the seeds alone does not make the case (e.g. one side nearly constant, which the t-test
takes for certainty); more seeds settle it. The other way round (the permutation test's p <
{ALPHA}, the t-test's not) the verdict is still the t-test's (INCONCLUSIVE): it is the rule.

A claim made of several comparisons ("worse than every GAN-family model") HOLDS only when every
comparison HOLDS (an intersection–union test: each at level {ALPHA}, no multiplicity correction
needed), DOES NOT HOLD when any comparison DOES NOT HOLD, and is INCONCLUSIVE otherwise."""


def p_eq(p: float) -> str:
    """``p`` as a reason writes it: ``= 0.012`` or ``< 1e-04``."""
    s = fmt_p(p)
    return s if s.startswith("<") else f"= {s}"


@dataclass
class Comparison:
    label: str
    left: str                       # what the left side is, e.g. "vae fid"
    right: str
    relation: str                   # ">" or "<": the claim is left <relation> right
    left_values: list[float]
    right_values: list[float]       # one value when the right side is a fixed bar
    test: str = ""
    statistic: float = math.nan
    p: float = math.nan
    verdict: str = INCONCLUSIVE
    reason: str = ""
    exact_test: str = ""            # the permutation test beside the t-test (not part of the verdict)
    p_exact: float = math.nan       # its one-sided p, in the claimed direction
    p_exact_min: float = math.nan   # the smallest p it can give with these seeds
    exact_relabelings: int = 0      # how many relabelings (or sign flips) it counted
    exact_enumerated: bool = False  # True: all of them (exact); False: a seeded Monte-Carlo draw (or not made)

    @property
    def n_left(self) -> int:
        return len(self.left_values)

    @property
    def n_right(self) -> int:
        return len(self.right_values)

    @property
    def diff(self) -> float:
        if not self.left_values or not self.right_values:
            return math.nan
        return float(np.mean(self.left_values) - np.mean(self.right_values))


@dataclass
class Claim:
    id: str
    title: str
    statement: str
    comparisons: list[Comparison] = field(default_factory=list)
    verdict: str = INCONCLUSIVE
    reason: str = ""
    details: list[str] = field(default_factory=list)   # extra markdown lines (numbers, context)

    def to_dict(self) -> dict:
        d = asdict(self)
        for c, cd in zip(self.comparisons, d["comparisons"]):
            cd.update(n_left=c.n_left, n_right=c.n_right, diff=c.diff)
        return d


# ----------------------------------------------------------------------------- the tests
def _pvalue(kind: str, left, right, alternative: str) -> tuple[float, float]:
    from scipy import stats  # noqa: PLC0415

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if kind == "welch":
            r = stats.ttest_ind(left, right, equal_var=False, alternative=alternative)
        elif kind == "paired":
            r = stats.ttest_rel(left, right, alternative=alternative)
        else:
            r = stats.ttest_1samp(left, right[0], alternative=alternative)
    return float(r.statistic), float(r.pvalue)


def _at_least_as_far(stat: np.ndarray, observed: float, relation: str, scale: float) -> np.ndarray:
    """Which relabelings' statistics are at least as far as ``observed`` in the claimed direction
    (ties included, up to the rounding of the sums: 1e-9 of the values' scale)."""
    tol = 1e-9 * scale
    return stat >= observed - tol if relation == ">" else stat <= observed + tol


def _group_sums(pooled: np.ndarray, n1: int) -> tuple[np.ndarray, bool]:
    """The sum of the first group under every relabeling of ``pooled`` into n1 and the rest (the
    observed one first), or under :data:`MONTE_CARLO_DRAWS` random ones when there are too many."""
    n = len(pooled)
    if math.comb(n, n1) <= EXACT_MAX:
        idx = np.array(list(itertools.combinations(range(n), n1)), dtype=np.intp).reshape(-1, n1)
        return pooled[idx].sum(axis=1), True
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    draws = rng.permuted(np.tile(np.arange(n), (MONTE_CARLO_DRAWS, 1)), axis=1)[:, :n1]
    return pooled[draws].sum(axis=1), False


def _sign_flip_means(d: np.ndarray) -> tuple[np.ndarray, bool]:
    """The mean of ``d`` under every sign flip (the observed one first), or under
    :data:`MONTE_CARLO_DRAWS` random ones when there are more than :data:`EXACT_MAX`."""
    n = len(d)
    if 2 ** n <= EXACT_MAX:
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        return (signs * d).mean(axis=1), True
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    return (rng.choice([-1.0, 1.0], size=(MONTE_CARLO_DRAWS, n)) * d).mean(axis=1), False


EXACT_NAMES = {"welch": "permutation of the pooled seeds", "paired": "sign flip of the paired differences",
                "one-sample": "sign flip of (value − bar)"}


def exact_test(c: Comparison, kind: str) -> Comparison:
    """Fill in the permutation test of ``c`` (see ``VERDICT_RULE``): the share of relabelings whose
    difference of means is at least as far in the claimed direction as the observed one."""
    lv, rv = np.array(c.left_values), np.array(c.right_values)
    if kind == "welch":
        pooled = np.concatenate([lv, rv])
        sums, enumerated = _group_sums(pooled, len(lv))
        stat = sums / len(lv) - (pooled.sum() - sums) / len(rv)
        observed, scale = c.diff, float(np.abs(pooled).max())
    else:
        d = lv - rv if kind == "paired" else lv - rv[0]
        stat, enumerated = _sign_flip_means(d)
        observed, scale = float(d.mean()), float(np.abs(np.concatenate([lv, rv])).max())
    hits = int(_at_least_as_far(stat, observed, c.relation, scale or 1.0).sum())
    c.exact_test, c.exact_relabelings, c.exact_enumerated = EXACT_NAMES[kind], len(stat), enumerated
    c.p_exact = hits / len(stat) if enumerated else (1 + hits) / (1 + len(stat))
    c.p_exact_min = 1 / len(stat) if enumerated else 1 / (1 + len(stat))
    return c


TEST_NAMES = {"welch": "Welch t (one-sided)", "paired": "paired t (one-sided)", "one-sample": "one-sample t (one-sided)"}


def compare(label: str, left: str, left_values, relation: str, right: str, right_values, *, kind: str = "welch") -> Comparison:
    """Judge the claim ``left <relation> right`` by the verdict rule (see ``VERDICT_RULE``)."""
    lv = [float(v) for v in np.asarray(left_values, dtype=float).ravel()]
    rv = [float(v) for v in np.asarray(right_values, dtype=float).ravel()]
    c = Comparison(label, left, right, relation, lv, rv, test=TEST_NAMES[kind])
    if not lv or not rv:
        missing = [s for s, v in ((left, lv), (right, rv)) if not v]
        c.reason = "no values for " + " and ".join(missing) + " (no ok run, or the metric was not recorded)"
        return c
    exact_test(c, kind)
    d = c.diff
    right_sign = d > 0 if relation == ">" else d < 0
    n = min(c.n_left, c.n_right) if kind != "one-sample" else c.n_left
    if n >= 2:
        alt = "greater" if relation == ">" else "less"
        c.statistic, c.p = _pvalue(kind, lv, rv, alt)
    if not right_sign:
        c.verdict = DOES_NOT_HOLD
        c.reason = ("the means are equal" if d == 0 else f"the mean difference ({fmt(d)}) has the wrong sign")
    elif n < 2:
        c.reason = f"n = {n}: a test over seeds is not possible"
    elif n < MIN_N:
        c.reason = f"right sign, but n = {n} < {MIN_N} (p {p_eq(c.p)})"
    elif not (c.p < ALPHA):
        c.reason = f"right sign, but p {p_eq(c.p)} ≥ {ALPHA}"
    else:
        c.verdict = HOLDS
        c.reason = f"right sign, p {p_eq(c.p)}" + ("" if c.p < 1e-4 else f" < {ALPHA}") + f", n ≥ {MIN_N}"
    return c


def combine(claim: Claim) -> Claim:
    vs = [c.verdict for c in claim.comparisons]
    if not vs:
        claim.verdict = INCONCLUSIVE
        claim.reason = claim.reason or "nothing to compare"
    elif DOES_NOT_HOLD in vs:
        claim.verdict = DOES_NOT_HOLD
        claim.reason = "; ".join(f"{c.label}: {c.reason}" for c in claim.comparisons if c.verdict == DOES_NOT_HOLD)
    elif all(v == HOLDS for v in vs):
        claim.verdict = HOLDS
        claim.reason = "every comparison holds" if len(vs) > 1 else claim.comparisons[0].reason
    else:
        claim.verdict = INCONCLUSIVE
        claim.reason = "; ".join(f"{c.label}: {c.reason}" for c in claim.comparisons if c.verdict == INCONCLUSIVE)
    return claim


def worse(bench: Benchmark, metric: str) -> str:
    """The relation meaning 'worse' for ``metric`` (``>`` when lower is better)."""
    return "<" if bench.higher_is_better(metric) else ">"


def no_runs_note(bench: Benchmark, models) -> list[str]:
    out = ["", "Runs not counted (status other than ok):", ""]
    for m in models:
        bad = [r for r in bench.runs_of(m, ok_only=False) if not r.ok]
        if bad:
            out.append(f"- {m}: {len(bad)} run(s) not ok (" + ", ".join(f"{r.run_id} {r.status}" for r in bad) + ")")
    return out if len(out) > 3 else []
