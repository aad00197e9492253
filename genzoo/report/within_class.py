"""Within-class diversity of the conditional model: asked for class k, does cGAN cover class k as
real images of class k do, or does it make near-copies of a few of them (a collapse inside each
class, which the label accuracy of ``cgan-labels`` does not see)?

What it reads: each record's ``per_class`` entries (:func:`genzoo.bench.score.per_class_scores`).
For class k they hold the per-class ``recall`` and ``coverage`` of cGAN's samples of class k against
the reference items of class k and, under ``real``, the same metrics of as many real images of
class k (training images) against the same reference items: the bar, what the data itself scores at
this sample size. Per run, the mean over the classes that have both is one value a side, and the
two are compared over the runs (paired).

The claim is built as every claim is (:mod:`genzoo.report.verdicts`) and listed by
:func:`genzoo.report.claims.claims_for`.
"""

from __future__ import annotations

import numpy as np

from .records import Benchmark, Run
from .summary import fmt, fmt_mean_std, mean_std
from .verdicts import Claim, combine, compare, no_runs_note

MODEL = "cgan"
METRICS = ("recall", "coverage")         # per-class recall (k = 3) and coverage (k = 5), genzoo.metrics.prdc


def class_means(run: Run, metric: str) -> tuple[float, float] | None:
    """The mean over classes of a run's per-class ``metric``: of the model's samples and of the
    real images, over the classes that have both (None when none has)."""
    fake, real = run.class_values(metric), run.class_values(metric, real=True)
    both = [c for c in fake if c in real]
    if not both:
        return None
    return float(np.mean([fake[c] for c in both])), float(np.mean([real[c] for c in both]))


def _not_measured(bench: Benchmark, metric: str) -> str:
    """Why ok runs give no pair for ``metric``: the records lack it, or lack its real baseline."""
    if any(r.class_values(metric) for r in bench.runs_of(MODEL)):
        return (f"the records' per-class {metric} has no real baseline (per_class[class]['real']; "
                f"their notes say why)")
    return (f"not measured: records predate per-class {metric} (or their benchmark's per_class_metrics "
            f"does not name it)")


def _per_class_table(bench: Benchmark) -> list[str]:
    """The markdown table of each class: the model's and the real images' recall and coverage,
    mean ± std over the ok runs, and which class collapsed most (recall furthest below the bar)."""
    runs = bench.runs_of(MODEL)
    values = {(m, real): {} for m in METRICS for real in (False, True)}
    for r in runs:
        for (m, real), per_class in values.items():
            for name, v in r.class_values(m, real=real).items():
                per_class.setdefault(name, []).append(v)
    classes = list(dict.fromkeys(c for per_class in values.values() for c in per_class))
    if not classes:
        return []
    head = " | ".join(f"{MODEL} {m} | real {m}" for m in METRICS)
    out = ["Per class (mean ± std over seeds, from the records' `per_class`; real: as many real training "
           "images of the class against the same reference images):", "",
           f"| class | {head} | n |", "|---|" + "---|" * (2 * len(METRICS) + 1)]
    for c in classes:
        cells = []
        for m in METRICS:
            for real in (False, True):
                v = values[(m, real)].get(c)
                cells.append(fmt_mean_std(*mean_std(v)) if v else "–")
        out.append(f"| {c} | {' | '.join(cells)} | {len(values[(METRICS[0], False)].get(c, []))} |")
    fake, real = values[(METRICS[0], False)], values[(METRICS[0], True)]
    both = [c for c in classes if c in fake and c in real]
    if both:
        worst = min(both, key=lambda c: np.mean(fake[c]) - np.mean(real[c]))
        out += ["", f"Furthest below the bar: {worst} ({MODEL} {METRICS[0]} {fmt(float(np.mean(fake[worst])))} "
                    f"against real {fmt(float(np.mean(real[worst])))})."]
    return out


def claim_cgan_within_class(bench: Benchmark) -> Claim:
    """The claim ``cgan-within-class-collapse``."""
    claim = Claim("cgan-within-class-collapse", "cGAN collapses within classes",
                  "Asked for class k, cGAN makes samples that cover less of class k than real images of class k "
                  "do: per run, the mean over classes of the per-class recall (Kynkäänniemi et al. 2019, k = 3) "
                  "and of the per-class coverage (Naeem et al. 2020, k = 5), in the evaluator's feature space, of "
                  "its samples of class k against reference images of class k is lower than the same mean for as "
                  "many real training images of class k against the same reference images (the bar: what the data "
                  "scores at this sample size). Paired over the runs; both must hold. `cgan-labels` asks whether "
                  "the samples are of class k; this claim asks whether they vary within it as the class does.")
    for metric in METRICS:
        pairs = [p for p in (class_means(r, metric) for r in bench.runs_of(MODEL)) if p is not None]
        c = compare(f"{MODEL} vs real per-class {metric}", f"{MODEL} per-class {metric}", [p[0] for p in pairs], "<",
                    f"real per-class {metric}", [p[1] for p in pairs], kind="paired")
        if not pairs and bench.runs_of(MODEL):
            c.reason = _not_measured(bench, metric)
        claim.comparisons.append(c)
    claim.details += _per_class_table(bench)
    claim.details += no_runs_note(bench, (MODEL,))
    combine(claim)
    runs = bench.runs_of(MODEL)
    if MODEL not in bench.models:
        claim.reason = f"{MODEL} has no records in this benchmark"
    elif runs and not any(r.class_values(m) for r in runs for m in METRICS):
        claim.reason = ("not measured: records predate per-class recall and coverage (or their benchmark's "
                        "per_class_metrics does not name them)")
    return claim
