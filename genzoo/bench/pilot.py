"""The pilot that chooses a profile's budgets: each model of a benchmark trained once (one seed),
scored at several step counts on the way, so that a budget is read off a curve (FID or modes
against training time) instead of guessed, and never chosen by looking at other seeds.

    python -m genzoo.bench.pilot ring --steps 500,1000,2000,4000 --models gan,wgan
    python -m genzoo.bench.pilot fashion --steps 250,500,1000 --set g_width=32 --set d_width=32

Each model gets the profile's settings for seed 0 (``--seed``), with ``max_steps`` = the largest
step count (``--set key=value`` changes any config key for every model). At each step count the
fit pauses, draws the profile's ``n_samples``, scores them as the benchmark does and saves a
sample grid. Writes ``<out>/<benchmark>.md`` (a table per model: step, epoch, training seconds,
metrics), ``.csv`` and ``<out>/<benchmark>/<model>-<step>.png``. Training time excludes scoring.
A GAN that averages its generator (``--set ema=0.999``) is scored twice at each step, from the
average (the metrics' own names) and from the trained G (``fid_no_ema``, ...: the same fit, so
the difference is the averaging's alone; grids ``<model>-<step>-no-ema.png``).
The AE's fitted prior is refitted at each pause, as at the end of a fit (from the training images
as stored: uint8 images stay uint8, the model converts them a chunk at a time).
``--data-dir DIR``: where the dataset's files are (as ``genzoo bench --data-dir``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

from .. import _io
from ..errors import UserError
from . import artifacts
from .data import Data
from .score import ready_to_sample, sample_grid
from .spec import load_benchmark

NO_AVERAGE = "_no_ema"    # a GAN with ema > 0 is also scored from its trained G: fid_no_ema, ...
KEY_METRICS = ("fid", "modes_covered", "high_quality", "precision", "recall", "sharpness", "classes_covered",
               "mode_kl", "label_accuracy")


class _Pauses:
    """A fit callback that scores the model at the chosen steps."""

    def __init__(self, steps, score_fn):
        self.steps, self.score_fn = sorted(set(steps)), score_fn
        self.rows: list[dict] = []
        self.paused_s = 0.0

    def sync_steps(self, total):
        return [s for s in self.steps if s <= total]

    def on_fit_start(self, model, total):
        self.t0 = time.perf_counter()

    def on_step_end(self, model, step, record):
        if step not in self.steps:
            return
        t = time.perf_counter()
        train_s = t - self.t0 - self.paused_s
        row = {"step": step, "epoch": round(record.get("epoch", 0.0), 3), "train_s": round(train_s, 1),
               **self.score_fn(model, step)}
        self.rows.append(row)
        self.paused_s += time.perf_counter() - t
        print(f"  {model.name} step {step}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                                        for k, v in row.items()), flush=True)


def run_pilot(benchmark: str, steps: list[int], *, profile: str = "quick", models: list[str] | None = None,
              seed: int = 0, overrides: dict | None = None, out: str | Path = "results/pilot",
              device: str = "cpu", data_dir: str | Path | None = None) -> dict[str, list[dict]]:
    """Train each model once, scoring it at ``steps``; returns and writes the rows per model."""
    import genzoo
    from genzoo import metrics as gm

    if not steps or any(s < 1 for s in steps):
        raise UserError(f"--steps must be positive step counts, got {steps}")
    bench = load_benchmark(benchmark)
    data = Data(bench, data_dir)
    out = Path(out)
    pngs = out / bench.name
    specs = bench.plan(profile, models=models, seeds=[seed])
    results: dict[str, list[dict]] = {}
    setup = {}
    for spec in specs:
        train, reference = data.train(spec.settings), data.reference(spec.settings)
        over = {**spec.overrides, **(overrides or {}), "max_steps": max(steps), "epochs": 1.0}
        model = genzoo.get_model(spec.model, spec.preset, **over)
        if not model.supports(train):
            continue
        n = spec.settings.n_samples
        names = spec.settings.metrics or None

        def score(m, step, spec=spec, train=train, reference=reference, n=n, names=names):
            ready_to_sample(m, train)       # the AE's prior refitted, as at the end of a fit
            row = scored(m, step, spec, train, reference, n, names, "")
            if m.weight_averages():                                      # ema > 0: the trained G too
                with m.sampling_from_trained():
                    row.update(scored(m, step, spec, train, reference, n, names, NO_AVERAGE))
            return row

        def scored(m, step, spec, train, reference, n, names, suffix):
            grid, nrow = sample_grid(m, train)
            what = " (trained G, not its average)" if suffix else ""
            artifacts.save_png(pngs / f"{spec.model}-{step}{suffix.replace('_', '-')}.png", grid, nrow=nrow,
                               reference=reference, title=f"{spec.model}, step {step}{what}")
            s = gm.score(m.sample(n, seed=spec.sample_seed), reference, names, n=n, seed=spec.seed,
                         device=device, progress=False, data_dir=data.data_dir)
            return {k + suffix: round(float(v), 4) for k, v in s.items() if k in KEY_METRICS}

        pauses = _Pauses(steps, score)
        print(f"{spec.model} ({bench.name}, profile {profile}, seed {seed}): {json.dumps(over, default=str)}",
              flush=True)
        model.fit(train, seed=seed, device=device, callbacks=[pauses])
        results[spec.model] = pauses.rows
        setup[spec.model] = over
        _write(out, bench.name, profile, seed, results, setup)
    return results


def _write(out: Path, name: str, profile: str, seed: int, results: dict, setup: dict) -> None:
    keys = [k + suffix for k in KEY_METRICS for suffix in ("", NO_AVERAGE)]
    cols = ["step", "epoch", "train_s"] + [k for k in keys if any(k in r for rows in results.values() for r in rows)]
    lines = [f"# Pilot: {name}, profile {profile}, seed {seed}", "",
             "Written by `python -m genzoo.bench.pilot` (genzoo/bench/pilot.py): each model trained once, "
             "scored at each step count on the way; `train_s` is training time without the scoring. "
             f"Sample grids in `{name}/`.", ""]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", *cols])
    for model, rows in results.items():
        lines += [f"## {model}", "", f"settings: `{json.dumps(setup[model], default=str)}`", "",
                  "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in rows:
            lines.append("| " + " | ".join(str(r.get(c, "–")) for c in cols) + " |")
            w.writerow([model, *(r.get(c, "") for c in cols)])
        lines.append("")
    _io.write_text(out / f"{name}.md", "\n".join(lines))
    _io.write_text(out / f"{name}.csv", buf.getvalue())


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set takes key=value, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genzoo.bench.pilot", description=__doc__.split("\n\n")[0])
    p.add_argument("benchmark")
    p.add_argument("--steps", required=True, help="comma-separated step counts, e.g. 500,1000,2000")
    p.add_argument("--profile", default="quick")
    p.add_argument("--models", default=None, help="comma-separated (default: the benchmark's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override for every model")
    p.add_argument("--out", default="results/pilot")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="where the dataset's files are (its loader's data_dir=)")
    a = p.parse_args(argv)
    try:
        steps = [int(s) for s in a.steps.split(",") if s.strip()]
    except ValueError:
        print(f"error: --steps must be integers, got {a.steps!r}", file=sys.stderr)
        return 2
    try:
        run_pilot(a.benchmark, steps, profile=a.profile, models=a.models.split(",") if a.models else None,
                  seed=a.seed, overrides=_parse_set(a.set), out=a.out, device=a.device, data_dir=a.data_dir)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
