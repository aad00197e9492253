"""How long a benchmark profile's training takes, measured without its data: each model of the
profile (its preset and overrides, seed 0) is trained for a few steps on **generated** items of the
dataset's declared shape, and its seconds per step projected over the steps its budget plans. What
sets a quick profile's budget when the real data is not on the machine (the budget is then chosen
by time alone, with no quality pilot: :mod:`genzoo.bench.pilot` is that).

    python -m genzoo.bench.timing cifar10 --profile quick --train-items 50000 --yardstick fashion
    python -m genzoo.bench.timing celeba64 --profile quick --models dcgan,vae --repeats 1

The generated items are uniform noise in the dataset's storage format (uint8 images, random
labels): a step costs the same whatever the pixels hold. Each model is timed as ``genzoo speed``
times a fit: the wall time of ``warmup + steps`` steps minus that of ``warmup`` steps (set-up and
first-step allocations cancel out), with ``--threads`` torch threads (1: as each run of ``genzoo
bench --engine ray`` on a CPU), the median of ``--repeats`` rounds.

``--yardstick BENCH`` (e.g. ``fashion``): a machine that is not the one a profile is meant for (or
one that is busy) times a step differently. Each model is then also timed, alternately with the
above, at the yardstick's settings for the same profile (on generated items of its dataset's
shape), and the yardstick's committed records (``results/BENCH/runs/<model>-s*/record.json``:
training time over steps, measured on the machine the profiles are written for) turn the ratio of
the two into that machine's seconds per step: ``record x measured / yardstick measured``.

The table gives seconds per step, the steps the profile plans on ``--train-items`` training items
(or its ``train_subset``), and one run's projected training time; the last line sums them over the
profile's seeds and divides by ``--workers`` runs at a time. Scoring, loading the data and the AE's
code fit on the whole training set are not in it: add them from the records of a benchmark of the
same sample counts (a few seconds a run at 2,000 samples).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

from ..errors import UserError
from .record import load_record
from .spec import load_benchmark

RECORDS = "results"        # where a yardstick's committed records are


def generated(dataset: str, items: int, seed: int = 0, shape: tuple[int, ...] | None = None):
    """``items`` random items in the storage format of ``dataset`` (its declaration's kind and
    shape, or ``shape`` for a dataset whose options choose it): uint8 images or float32 points,
    labels uniform over its classes."""
    import torch

    import genzoo.data

    info = genzoo.data.dataset_info(dataset)
    shape = tuple(shape or info.shape or ())
    if not shape:
        raise UserError(f"dataset {dataset!r} declares no item shape (its options choose it): give --shape C,H,W")
    g = torch.Generator().manual_seed(seed)
    k = max(1, info.num_classes or 1)
    if info.kind == "image":
        x = torch.randint(0, 256, (items, *shape), generator=g, dtype=torch.uint8)
    else:
        x = torch.randn(items, *shape, generator=g)
    y = torch.randint(k, (items,), generator=g)
    names = tuple(info.class_names) if len(info.class_names) == k else tuple(str(i) for i in range(k))
    return genzoo.data.Dataset(dataset, x, y, k, names, meta={"source": {"how": "generated", "by": __name__}})


def _fit_seconds(spec, data, steps: int) -> float:
    import genzoo

    model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
    model.config = dataclasses.replace(model.config, max_steps=steps)
    t = time.perf_counter()
    model.fit(data, seed=0, device="cpu")
    return time.perf_counter() - t


def step_seconds(spec, data, steps: int, warmup: int) -> float:
    """Seconds per step of ``spec``'s model on ``data``: (fit of warmup + steps) - (fit of warmup), / steps."""
    short = _fit_seconds(spec, data, warmup)
    return max(_fit_seconds(spec, data, warmup + steps) - short, 1e-9) / steps


def recorded_step_seconds(benchmark: str, profile: str, model: str, records: str | Path = RECORDS) -> float | None:
    """The median over the committed records of ``model`` in ``benchmark``'s ``profile`` of their
    training time per step (``train.train_time_s / train.steps``); None: no such record."""
    values = []
    for path in sorted((Path(records) / benchmark / "runs").glob(f"{model}-s*/record.json")):
        try:
            rec = load_record(path)
        except (OSError, ValueError, TypeError):
            continue
        train = rec.train or {}
        if rec.model == model and rec.profile == profile and rec.status == "ok" and train.get("steps") \
                and train.get("train_time_s"):
            values.append(float(train["train_time_s"]) / float(train["steps"]))
    return statistics.median(values) if values else None


def time_profile(benchmark: str, profile: str = "quick", *, train_items: int | None = None,
                 models: list[str] | None = None, steps: int = 20, warmup: int = 5, items: int = 2048,
                 threads: int = 1, repeats: int = 3, shape: tuple[int, ...] | None = None,
                 yardstick: str | None = None, records: str | Path = RECORDS, progress: bool = True) -> list[dict]:
    """One row per model of the profile that fits the data: ``model``, ``s_per_step`` (measured
    here), ``steps`` (planned on ``train_items`` items, or on the profile's ``train_subset``),
    ``budget`` (what the profile sets), ``batch_size``; with a ``yardstick``, ``yardstick_s``
    (measured here at its settings), ``yardstick_record_s`` (its records) and ``projected_s``
    (seconds per step on the records' machine); ``run_s``: one run's training time (projected when
    it can be, else as measured here)."""
    import torch
    from tqdm.auto import tqdm

    import genzoo

    from ..training.loop import planned_steps

    if steps < 1 or warmup < 1 or repeats < 1:
        raise UserError(f"--steps, --warmup and --repeats must be at least 1, got {steps}, {warmup} and {repeats}")
    bench = load_benchmark(benchmark)
    specs = bench.plan(profile, models=models, seeds=[0])
    data = generated(bench.dataset, items, shape=shape)
    yard = yard_data = None
    if yardstick is not None:
        ybench = load_benchmark(yardstick)
        yard = {s.model: s for s in ybench.plan(profile, seeds=[0])}
        yard_data = generated(ybench.dataset, items)
    planned = []                              # every model's steps first: a missing --train-items before any timing
    for spec in specs:
        model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
        if not model.supports(data):
            continue
        cfg = model.config
        n = spec.settings.train_subset or train_items
        if cfg.max_steps is None and not n:
            raise UserError(f"{spec.model} trains for {cfg.epochs:g} epochs: give --train-items (the size of the "
                            f"training split) to turn them into steps")
        planned.append((spec, {"model": spec.model, "budget": f"max_steps {cfg.max_steps}" if cfg.max_steps is not None
                               else f"epochs {cfg.epochs:g}", "batch_size": cfg.batch_size,
                               "steps": planned_steps(cfg.max_steps, cfg.epochs, cfg.batch_size, model.batches_per_step,
                                                      n or 1)}))
    torch.set_num_threads(threads)
    rows = []
    for spec, row in tqdm(planned, desc=f"timing {bench.name}/{profile}", unit="model", disable=not progress or None):
        ys = yard.get(spec.model) if yard is not None else None
        ours, theirs = [], []
        for _ in range(repeats):                 # alternately: a busy machine slows both alike
            ours.append(step_seconds(spec, data, steps, warmup))
            if ys is not None:
                theirs.append(step_seconds(ys, yard_data, steps, warmup))
        row["s_per_step"] = statistics.median(ours)
        rec = recorded_step_seconds(yardstick, profile, spec.model, records) if ys is not None else None
        if theirs and rec is not None:
            row.update(yardstick_s=statistics.median(theirs), yardstick_record_s=rec,
                       projected_s=rec * row["s_per_step"] / statistics.median(theirs))
        row["run_s"] = row.get("projected_s", row["s_per_step"]) * row["steps"]
        rows.append(row)
    return rows


def to_text(rows: list[dict], seeds: int, workers: int, yardstick: str | None = None) -> str:
    """The table of :func:`time_profile`'s rows, and the projected training time of the profile."""
    head = f"{'model':<12} {'s/step':>8}"
    if yardstick:
        head += f" {yardstick + ' here':>14} {yardstick + ' record':>16} {'projected':>9}"
    lines = [head + f" {'steps':>7} {'run (s)':>8}  budget"]
    for r in rows:
        line = f"{r['model']:<12} {r['s_per_step']:>8.4f}"
        if yardstick:
            line += (f" {r['yardstick_s']:>14.4f} {r['yardstick_record_s']:>16.4f} {r['projected_s']:>9.4f}"
                     if "projected_s" in r else f" {'–':>14} {'–':>16} {'–':>9}")
        lines.append(line + f" {r['steps']:>7d} {r['run_s']:>8.0f}  {r['budget']}, batch {r['batch_size']}")
    total = sum(r["run_s"] for r in rows) * seeds
    lines.append(f"training of {seeds} seed(s), {workers} run(s) at a time: {total / workers / 60:.1f} min "
                 f"({total / 60:.1f} min of run time; scoring not included)")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genzoo.bench.timing", description=__doc__.split("\n\n")[0])
    p.add_argument("benchmark")
    p.add_argument("--profile", default="quick")
    p.add_argument("--train-items", type=int, default=None, help="size of the training split the epochs are of")
    p.add_argument("--models", default=None, help="comma-separated (default: the profile's)")
    p.add_argument("--steps", type=int, default=20, help="timed steps per model (default 20)")
    p.add_argument("--warmup", type=int, default=5, help="steps of the shorter fit subtracted (default 5)")
    p.add_argument("--repeats", type=int, default=3, help="rounds, the median taken (default 3)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as a run of the Ray engine)")
    p.add_argument("--workers", type=int, default=2, help="runs at a time for the projected total (default 2)")
    p.add_argument("--yardstick", default=None, metavar="BENCH",
                   help="also time BENCH's settings of the profile, and project with its committed records")
    p.add_argument("--records", default=RECORDS, metavar="DIR", help="where the yardstick's records are (default results)")
    p.add_argument("--shape", default=None, help="C,H,W for a dataset whose options choose the shape")
    a = p.parse_args(argv)
    try:
        shape = tuple(int(v) for v in a.shape.split(",")) if a.shape else None
        rows = time_profile(a.benchmark, a.profile, train_items=a.train_items,
                            models=a.models.split(",") if a.models else None, steps=a.steps, warmup=a.warmup,
                            threads=a.threads, repeats=a.repeats, shape=shape, yardstick=a.yardstick,
                            records=a.records)
        seeds = len(load_benchmark(a.benchmark).profile(a.profile).get("seeds", [0]))
    except (UserError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(to_text(rows, seeds, max(1, a.workers), a.yardstick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
