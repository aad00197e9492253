"""``--pack on`` logs each seed's W&B run live, as it trains (``genzoo.fit_seeds`` with one callback
list per seed): the loss curve at the logged steps and the mid-training sample grids, read back
from the offline run folders on disk (wandb's own transaction log). No server, no mocks."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from genzoo.bench import run_benchmark
from genzoo.bench.tracking import logged_steps
from genzoo.bench.tracking.offline import find_runs

STEPS, LOG_EVERY, IMAGES = 8, 3, 2


def _bench(make_benchmark, tmp_path, monkeypatch, name: str, models, seeds, quiet=True, **settings):
    monkeypatch.setenv("WANDB_MODE", "offline")
    toml = make_benchmark(name, "ring", models, seeds=seeds, log_every=LOG_EVERY, images=IMAGES, **settings)
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "results", wandb_project="genzoo-tests",
                           quiet=quiet, pack="on")
    bench_dir = tmp_path / "results" / name
    runs = find_runs(bench_dir / "wandb")
    return result, runs, bench_dir


def _history(bench_dir, run_id: str) -> pd.DataFrame:
    with gzip.open(bench_dir / "runs" / run_id / "history.csv.gz", "rt") as f:
        return pd.read_csv(f)


def _curve(run) -> dict[int, dict]:
    return {row["_step"]: row for row in run.history if "train/loss_d" in row}


def _grids(run) -> dict[int, dict]:
    return {row["_step"]: row["train/samples"] for row in run.history if "train/samples" in row}


def test_packed_seeds_log_their_curves_and_sample_grids_as_they_train(make_benchmark, tmp_path, monkeypatch):
    result, runs, bench_dir = _bench(make_benchmark, tmp_path, monkeypatch, "tiny-packlog", ["gan"], [0, 1],
                                     max_steps=STEPS)
    by_name = {r.name: r for r in runs}
    assert sorted(by_name) == ["gan-s0", "gan-s1", "tiny-packlog-summary"]      # one W&B run per seed, no more
    every, image_steps = logged_steps(STEPS, LOG_EVERY, IMAGES)
    want_steps = sorted({1, *range(every, STEPS + 1, every), *image_steps})
    assert want_steps == [1, 3, 4, 6, 8] and sorted(image_steps) == [4, 8]
    grids = {}
    for rec in result.records:
        # the record says it was packed, as before
        assert rec.status == "ok" and rec.train["packed_with"] == [0, 1]
        assert any(n.startswith("trained together with seeds [0, 1] in one process (genzoo.fit_seeds)")
                   for n in rec.notes)
        run = by_name[rec.run_id]
        assert run.finished and run.exit_code == 0 and Path(rec.wandb["dir"]) == run.dir
        # the loss curve at the logged steps, the values of the run's own history
        curve = _curve(run)
        assert sorted(curve) == want_steps
        hist = _history(bench_dir, rec.run_id).set_index("step")
        for step, row in curve.items():
            for key in ("loss_d", "loss_g"):
                assert row[f"train/{key}"] == pytest.approx(hist.loc[step, key], rel=1e-6), (rec.run_id, step, key)
        # the sample grids drawn during training, from this seed's model at that step
        grid = _grids(run)
        assert sorted(grid) == sorted(image_steps)
        for step, image in grid.items():
            assert image["_type"] == "image-file" and image["caption"] == f"step {step}"
            assert (run.dir / "files" / image["path"]).is_file()
        grids[rec.seed] = {step: image["sha256"] for step, image in grid.items()}
        assert run.summary["modes_covered"] == rec.metrics["modes_covered"]
    assert grids[0][STEPS] != grids[1][STEPS]            # each seed's grid is of its own model


def test_seeds_that_cannot_be_packed_are_logged_in_the_runs_already_started(make_benchmark, tmp_path,
                                                                             monkeypatch, capsys):
    """A pack that diverges falls back to training its seeds one by one, each in the W&B run it
    started before the pack (no second run of the same name, none left open): the steps the pack
    logged are not logged again, the rest come from the run's own fit."""
    result, runs, bench_dir = _bench(make_benchmark, tmp_path, monkeypatch, "tiny-packfall", ["wgan"], [2, 6],
                                     max_steps=60, dataset_options={"n": 600}, model_settings={"wgan": {"lr": 1e8}},
                                     quiet=False)
    assert "wgan: a seed diverged when packed" in capsys.readouterr().out
    names = sorted(r.name for r in runs)
    assert names == ["tiny-packfall-summary", "wgan-s2", "wgan-s6"]
    recs = {r.seed: r for r in result.records}
    assert {s: r.status for s, r in recs.items()} == {2: "ok", 6: "diverged"}
    every, image_steps = logged_steps(60, LOG_EVERY, IMAGES)
    for seed, rec in recs.items():
        assert "packed_with" not in rec.train and not any("trained together" in n for n in rec.notes)
        run = next(r for r in runs if r.name == rec.run_id)
        assert run.finished and run.exit_code == (0 if rec.status == "ok" else 1)
        steps = [row["_step"] for row in run.history if "train/loss_d" in row]
        assert steps == sorted(set(steps))                       # each step once, in order
        n = len(_history(bench_dir, rec.run_id))
        assert steps == sorted({1, *range(every, n + 1, every), *(s for s in image_steps if s <= n)})
    assert sorted(_grids(next(r for r in runs if r.name == "wgan-s2"))) == sorted(image_steps)
