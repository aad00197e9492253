"""``genzoo sweep``: trains each trial of a random search as a normal benchmark run (its own record,
its settings in the config and in the record's ``sweep`` entry), on the local or the Ray engine,
resumable like a benchmark; then re-runs each model's best trial with more seeds and writes the
sweep report. Records go to ``OUT/sweeps/<space>-s<sweep seed>/BENCHMARK/runs/<model>-t<trial>-s<seed>/``,
the report beside ``runs/`` (``sweep.md``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import UserError
from .space import draw_trials


def trial_specs(bench, profile: str, models: list[str], trials: int, *, level: str, seed: int,
                seeds: list[int] | None = None, only_trials: dict[str, int] | None = None) -> list:
    """The RunSpecs of a sweep: for each model, trial t's settings over the profile's plan (seed
    0, or ``seeds``); ``only_trials``: model -> the one trial to plan (a best trial's re-runs). The
    plan is the profile's own keys, never its ``settings_from`` (trial 0 is the defaults, and a
    sweep at a new budget must not read the stale one it replaces), nor its ``score_at_steps``."""
    specs = []
    for model in models:
        base = bench.plan(profile, models=[model], seeds=[0], from_sweep=False)[0]
        # a trial is scored at its end only: the profile's scores on the way are for its own runs
        base = dataclasses.replace(base, settings=dataclasses.replace(base.settings, score_at_steps=[]))
        drawn = draw_trials(model, trials, level=level, seed=seed)
        wanted = range(trials) if only_trials is None else [only_trials[model]] if model in only_trials else []
        for t in wanted:
            settings = drawn[t]
            for s in seeds or [0]:
                specs.append(dataclasses.replace(
                    base, seed=int(s), overrides={**base.overrides, **settings},
                    sweep={"trial": t, "space": level, "seed": seed, "trials": trials, "settings": settings}))
    return specs


def run_sweep(benchmark, *, sweep: str | None = None, models: list[str] | None = None,
              trials: int | None = None, level: str | None = None, seed: int | None = None,
              profile: str | None = None, rerun_seeds: int | None = None, metric: str | None = None,
              out: str | Path = "out", device: str = "auto", quiet: bool = False, **run_kw) -> Path:
    """Run (or resume) a sweep and write its report; returns the report's path. ``sweep``: a
    ``[sweeps.<name>]`` table of the benchmark giving the defaults of everything else (the
    benchmark profile the trials train with, models, trials, space, seed, re-run seeds)."""
    import genzoo
    from ..bench import Benchmark, load_benchmark, resolve_device, resolve_profile, run_benchmark
    from ..metrics import HIGHER_IS_BETTER
    from .report import collect, write_report

    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    table = {}
    if sweep is not None:
        if sweep not in bench.sweeps:
            raise UserError(f"benchmark {bench.name!r} has no sweep {sweep!r}; its sweeps: {sorted(bench.sweeps) or 'none'}"
                            f" (or give --models and --trials)")
        table = bench.sweeps[sweep]
    models = list(models or table.get("models") or [])
    if not models:
        raise UserError("name the models to sweep (--models), or a sweep of the benchmark that lists them")
    trials = int(table.get("trials", 10) if trials is None else trials)
    level = level or table.get("space", "wide")
    seed = int(table.get("seed", 0) if seed is None else seed)
    rerun_seeds = int(table.get("rerun_seeds", 5) if rerun_seeds is None else rerun_seeds)
    if trials < 1:
        raise UserError(f"--trials must be at least 1, got {trials}")
    known = genzoo.list_models()
    for m in models:
        if m not in known:
            raise UserError(f"unknown model {m!r}; choose from {known}")
    if rerun_seeds < 1:
        raise UserError(f"--rerun-seeds must be at least 1, got {rerun_seeds}")
    profile, _ = resolve_profile(bench, profile or table.get("profile"), resolve_device(device))
    root = Path(out) / "sweeps" / f"{level}-s{seed}"
    common = dict(profile=profile, out=root, device=device, quiet=quiet, comparison=False, **run_kw)
    specs = trial_specs(bench, profile, models, trials, level=level, seed=seed)
    if metric is not None:
        check_metric(metric, bench.dataset, specs)
    records = list(run_benchmark(bench, specs=specs, **common).records)
    metric = metric or ("fid" if any("fid" in (r.metrics or {}) for r in records) else "modes_covered")
    lower = not HIGHER_IS_BETTER.get(metric, False)
    best = {m: s.best_trial for m, s in collect(records, metric, lower).items() if s.best_trial is not None}
    if rerun_seeds > 1 and best:
        again = trial_specs(bench, profile, sorted(best), trials, level=level, seed=seed,
                            seeds=list(range(rerun_seeds)), only_trials=best)
        seen = {r.run_id for r in records}
        records += [r for r in run_benchmark(bench, specs=again, **common).records if r.run_id not in seen]
    return write_report(root / bench.name, records, metric=metric, lower_is_better=lower,
                        title=f"{bench.name}, profile {profile}, {level} space, {trials} trials, sweep seed {seed}",
                        literature=published_fids(bench.dataset, models) if metric == "fid" else None)


def check_metric(metric: str, dataset: str, specs) -> None:
    """``metric`` (``--metric``) must be one that every planned trial is scored with: the profile's
    ``metrics``, else genzoo.metrics.score's defaults for the dataset (a UserError before any training)."""
    scored: list[str] = []
    for i, spec in enumerate(specs):
        names = scored_metrics(dataset, spec.settings)
        scored = names if i == 0 else [n for n in scored if n in names]
    if metric.removesuffix("_normal_prior") not in scored:       # the AE's N(0, I) samples: fid_normal_prior
        raise UserError(f"--metric {metric!r} is not a metric the trials are scored with; choose from "
                        f"{', '.join(scored) or 'none'} (the profile's metrics, else the defaults for {dataset})")


def scored_metrics(dataset: str, settings) -> list[str]:
    """The keys a run's ``metrics`` get from its settings' ``metrics`` (a
    :class:`~genzoo.bench.runspec.RunSettings`; empty: the dataset's defaults)."""
    from ..metrics.score import METRIC_KEYS, default_metrics

    names = settings.metrics or default_metrics(dataset)
    return list(dict.fromkeys(key for name in names for key in METRIC_KEYS.get(name, [name])))


def published_fids(dataset: str, models: list[str]) -> dict[str, str]:
    """Lucic et al.'s best FID after their wide search on the dataset (the FID table its declaration's
    ``literature`` names, :data:`genzoo.report.literature.FID_SECTIONS`), for the swept models that
    declare its names; {} for a dataset without one."""
    from ..models import get_model_class
    from ..report.literature import fid_section

    section = fid_section(dataset)
    lucic = section.lucic() if section is not None else {}
    out = {}
    for m in models:
        rows = [f"{name} {lucic[name]}" for name in getattr(get_model_class(m), "published_names", ())
                if name in lucic]
        if rows:
            out[m] = (f"{section.search}: " + "; ".join(rows)
                      + ". genzoo's evaluator FID is on another scale: compare the ranking, not the numbers.")
    return out
