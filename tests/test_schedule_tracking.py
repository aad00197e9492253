"""A model on a schedule (ProGAN's growing) through the runner: its phase, resolution and fade-in
weight alpha at every logged step in the record's history and in its W&B run (offline, read back
from disk), and its phase boundaries in the training-curve figure."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from genzoo.bench import run_benchmark
from genzoo.bench.tracking.offline import find_runs
from genzoo.report.build import build_report
from genzoo.report.figures import phase_starts


@pytest.fixture(scope="module")
def grown(tmp_path_factory, make_benchmark):
    tmp = tmp_path_factory.mktemp("bench-schedule")
    make_benchmark("tiny-grow", "fashion-mnist", ["progan"], folder=tmp, max_steps=12, log_every=1, images=0,
                   n_samples=200, per_class=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    try:
        result = run_benchmark(tmp / "tiny-grow.toml", profile="tiny", out=tmp / "results",
                               wandb_project="genzoo-tests", quiet=True)
    finally:
        mp.undo()
    return result, tmp / "results"


def test_the_phases_are_in_the_history_and_on_wandb(grown):
    result, out = grown
    (rec,) = result.records
    assert rec.status == "ok", rec.error
    with gzip.open(out / "tiny-grow" / "runs" / "progan-s0" / "history.csv.gz", "rt") as f:
        h = pd.read_csv(f)
    assert len(h) == 12 and {"phase", "resolution", "alpha"} <= set(h.columns)
    # 5 phases (stabilize 7, fade in 14, stabilize 14, fade in 28, stabilize 28) over the 12 steps
    assert list(h["resolution"].iloc[[0, -1]]) == [7, 28] and h["phase"].is_monotonic_increasing
    assert h["phase"].iloc[-1] == 4 and set(h["resolution"]) == {7, 14, 28}
    fades = h[h["alpha"] < 1]
    assert len(fades) and set(fades["phase"]) <= {1, 3}                 # alpha below 1 only while fading in
    run = {r.name: r for r in find_runs(out / "tiny-grow" / "wandb")}["progan-s0"]
    logged = [row for row in run.history if "train/alpha" in row]
    assert [row["_step"] for row in logged] == list(range(1, 13))
    assert [row["train/phase"] for row in logged] == list(h["phase"])
    assert [row["train/resolution"] for row in logged] == list(h["resolution"])
    assert [row["train/alpha"] for row in logged] == pytest.approx(list(h["alpha"]))


def test_the_training_curves_figure_marks_the_phases(grown):
    _, out = grown
    rep = build_report("tiny-grow", out)
    assert rep.figures["training_curves"].stat().st_size > 0
    with gzip.open(out / "tiny-grow" / "runs" / "progan-s0" / "history.csv.gz", "rt") as f:
        h = pd.read_csv(f).set_index("step")
    starts = phase_starts(h)
    assert [what for _, what in starts] == ["fade in 14", "stabilize 14", "fade in 28", "stabilize 28"]
    assert [s for s, _ in starts] == sorted(s for s, _ in starts) and starts[0][0] > 1
