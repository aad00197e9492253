"""A profile's settings from a committed sweep (the benchmark file's ``settings_from``): each
model's best trial in a folder ``genzoo sweep`` wrote, read from the trial's run record (so
floats are exact), and what a profile's run would train differently from it (a sweep of another
budget does not feed a profile). :meth:`genzoo.bench.spec.Benchmark.plan` applies it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .record import RunRecord, read_record
from .runspec import RUNNER_KEYS, RunSpec

__all__ = ["SWEEP_CSV", "BestTrial", "best_trial", "read_sweep", "sweep_folder", "sweep_metric", "trained_differently",
           "trial_runs"]

SWEEP_CSV = "sweep.csv"         # genzoo sweep's table: model,trial,status,seed,<metric>,settings


@dataclass(frozen=True)
class BestTrial:
    """A model's best trial in a sweep folder."""

    model: str
    trial: int
    metric: str              # what "best" means: the metric the sweep's report is ranked by
    value: float
    settings: dict           # the config overrides the trial drew, as its record holds them (exact)
    record: RunRecord        # the trial's run (its lowest seed)


def sweep_folder(bench_path: Path, source: str) -> Path:
    """The folder ``settings_from`` names: an absolute path as it is, a relative one from the folder
    above the benchmark file's (the repository root for ``benchmarks/*.toml``), so that it does
    not depend on the working directory."""
    path = Path(source).expanduser()
    return path if path.is_absolute() else Path(bench_path).resolve().parent.parent / path


def best_trial(values: dict[int, float | None], lower_is_better: bool = True) -> int | None:
    """The best of trial -> value (values that are not finite numbers left out), a tie to the
    lower trial; None without a finite value. The sweep report ranks trials with it too."""
    ok = [(t, v) for t, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)]
    if not ok:
        return None
    sign = 1 if lower_is_better else -1
    return min(ok, key=lambda tv: (sign * tv[1], tv[0]))[0]


def sweep_metric(folder: Path) -> str:
    """The metric a sweep folder is ranked by: the fifth column of its sweep.csv."""
    try:
        header = (folder / SWEEP_CSV).read_text(encoding="utf-8").split("\n", 1)[0].strip().split(",")
    except OSError:
        raise UserError(f"{folder} is not a sweep folder (no readable {SWEEP_CSV}: `genzoo sweep` writes one)") \
            from None
    if len(header) != 6 or header[:4] != ["model", "trial", "status", "seed"] or header[5] != "settings":
        raise UserError(f"{folder / SWEEP_CSV} is not a genzoo sweep table (header {','.join(header)!r})")
    return header[4]


def trial_runs(records) -> dict[tuple[str, int], RunRecord]:
    """(model, trial) -> the trial's run: its record with the lowest seed (the others re-run it)."""
    runs: dict[tuple[str, int], RunRecord] = {}
    for rec in records:
        if "trial" not in (rec.sweep or {}):
            continue
        key = (rec.model, int(rec.sweep["trial"]))
        if key not in runs or int(rec.seed or 0) < int(runs[key].seed or 0):
            runs[key] = rec
    return runs


def read_sweep(folder: Path) -> dict[str, BestTrial]:
    """Model -> its best trial in a folder ``genzoo sweep`` wrote (``sweep.csv``, ``runs/*/record.json``),
    ranked by the sweep's metric as its report ranks them; models without a scored trial left out."""
    from ..metrics import HIGHER_IS_BETTER

    folder = Path(folder)
    metric = sweep_metric(folder)
    records = [r for r in (read_record(d) for d in sorted((folder / "runs").glob("*/"))) if r is not None]
    runs = trial_runs(records)
    out = {}
    for model in sorted({m for m, _ in runs}):
        values = {t: (rec.metrics or {}).get(metric) if rec.status == "ok" else None
                  for (m, t), rec in runs.items() if m == model}
        t = best_trial(values, lower_is_better=not HIGHER_IS_BETTER.get(metric, False))
        if t is not None:
            rec = runs[(model, t)]
            out[model] = BestTrial(model, t, metric, values[t], dict(rec.sweep.get("settings") or {}), rec)
    return out


def trained_differently(spec: RunSpec, trial: RunRecord) -> list[str]:
    """What ``spec`` trains differently from the sweep trial's run: data set, preset, config
    overrides, training subset and data options, one ``"key X here, Y in the sweep"`` each (empty: the same)."""
    plan = trial.plan or {}
    theirs, mine = plan.get("settings") or {}, spec.settings.to_dict()
    overrides = plan.get("overrides") or {}
    pairs = [("dataset", spec.dataset, trial.dataset), ("preset", spec.preset, plan.get("preset"))]
    pairs += [(k, spec.overrides.get(k, "unset"), overrides.get(k, "unset"))
              for k in sorted(set(spec.overrides) | set(overrides))]
    pairs += [(k, mine[k], theirs.get(k, RUNNER_KEYS[k][0])) for k in ("train_subset", "dataset_options")]
    return [f"{k} {a!r} here, {b!r} in the sweep" for k, a, b in pairs if a != b]
