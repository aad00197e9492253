"""Hyper-parameter sweeps (Lucic et al. 2018): the declared spaces, reproducible trials, and the
expected-best-of-k curve."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import genzoo
from genzoo.errors import UserError
from genzoo.sweep import describe_space, draw_trials, model_space
from genzoo.sweep.stats import budget_curve, expected_best


@pytest.mark.parametrize("name", genzoo.list_models())
def test_every_model_declares_a_space_whose_trials_are_valid_configs(name):
    for level in ("wide", "narrow"):
        space = model_space(name, level)
        assert "learning_rate" in space
        trials = draw_trials(name, 6, level=level, seed=3)
        assert trials[0] == {}                                    # trial 0: the defaults
        for t in trials[1:]:
            assert set(t) == {k for dim in space.values() for k in dim.keys}
            genzoo.get_model(name, **t)                           # within the config's limits


def test_trials_are_reproducible_and_a_longer_sweep_extends_a_shorter_one():
    a = draw_trials("dcgan", 5, seed=7)
    assert a == draw_trials("dcgan", 5, seed=7)
    assert draw_trials("dcgan", 9, seed=7)[:5] == a
    assert draw_trials("dcgan", 5, seed=8) != a
    assert len({t["lr_g"] for t in a[1:]}) == 4 and all(t["lr_g"] == t["lr_d"] for t in a[1:])   # G and D share it


def test_the_spaces_follow_compare_gan_wide_and_narrow():
    wide = draw_trials("wgan-gp", 400, seed=0)[1:]
    narrow = draw_trials("wgan-gp", 400, level="narrow", seed=0)[1:]
    lr_w, lr_n = np.log10([t["lr"] for t in wide]), np.log10([t["lr"] for t in narrow])
    assert -5 <= lr_w.min() < -4.8 and -2.2 < lr_w.max() <= -2             # log-uniform over 10^[-5, -2]
    assert -4 <= lr_n.min() and lr_n.max() <= -3
    assert {t["beta1"] for t in narrow} == {0.5} and 0 <= min(t["beta1"] for t in wide) < 0.05
    assert {t["n_critic"] for t in wide} == {1, 5} and {t["n_critic"] for t in narrow} == {1}
    lam = np.log10([t["gp_lambda"] for t in wide])
    assert -1 <= lam.min() and lam.max() <= 2 and lam.max() > 1.5
    wgan = draw_trials("wgan", 50, seed=0)[1:]
    assert {t["optimizer"] for t in wgan} == {"adam"} and {t["d_batch_norm"] for t in wgan} == {True, False}
    assert "d_batch_norm" not in model_space("gan") and "d_batch_norm" in model_space("dcgan")   # MLP D has none
    assert "d_batch_norm" not in model_space("dcgan", "narrow")                                  # its own, fixed
    assert set(model_space("vae")) == {"learning_rate"}


def test_show_space_and_bad_input():
    text = describe_space("wgan", "narrow")
    assert "clip" in text and "log-uniform 10^[-2, 0]" in text and "default lr=5e-05" in text
    with pytest.raises(UserError, match="unknown search space"):
        model_space("gan", "medium")
    with pytest.raises(UserError, match="at least one trial"):
        draw_trials("gan", 0)
    from genzoo.cli import main

    assert main(["sweep", "modes-ring", "--models", "gan", "--trials", "0", "--out", "/nonexistent"]) == 2
    assert main(["sweep", "modes-ring", "--models", "gan", "--rerun-seeds", "0", "--out", "/nonexistent"]) == 2


def test_expected_best_of_k_matches_enumeration():
    values = [4.0, 1.5, 9.0, 2.5]
    for k in (1, 2, 3):
        draws = list(itertools.product(values, repeat=k))
        assert math.isclose(expected_best(values, k), np.mean([min(d) for d in draws]))
        assert math.isclose(expected_best(values, k, lower_is_better=False), np.mean([max(d) for d in draws]))
    assert expected_best(values, 1) == np.mean(values)


def test_budget_curve_falls_with_k_inside_its_interval_and_is_deterministic():
    rng = np.random.default_rng(0)
    fids = list(rng.lognormal(3, 0.5, size=30)) + [float("nan")]
    rows = budget_curve(fids, 10, n_boot=300)
    assert [r["k"] for r in rows] == list(range(1, 11))
    best = [r["expected_best"] for r in rows]
    assert all(a > b for a, b in zip(best, best[1:]))
    assert all(r["low"] <= r["expected_best"] <= r["high"] for r in rows)
    assert rows == budget_curve(fids, 10, n_boot=300)
    assert budget_curve([None, float("nan")]) == []


# ------------------------------------------------------------------ sweeps run by the runner

# the tiny benchmark with a sweep table (conftest's make_benchmark / benchmark_toml)
SWEEP = dict(name="tiny-sweep", dataset="ring", models=["gan", "wgan-gp"], reference_subset=None, n_samples=300,
             max_steps=12, sweeps={"tiny": {"profile": "tiny", "models": ["gan", "wgan-gp"], "trials": 3,
                                            "rerun_seeds": 2}})


def _records(folder):
    import json

    return {p.parent.name: json.loads(p.read_text()) for p in sorted((folder / "runs").glob("*/record.json"))}


@pytest.fixture(scope="module")
def swept(tmp_path_factory, make_benchmark):
    """A sweep run once for the module: (its benchmark file, its out folder, its report). Read-only:
    a test that runs the sweep again does it on a copy (:func:`_copy_of`)."""
    from genzoo.sweep.run import run_sweep

    tmp = tmp_path_factory.mktemp("sweep")
    toml = make_benchmark(**SWEEP, folder=tmp)
    report = run_sweep(toml, sweep="tiny", out=tmp / "out", wandb=False, quiet=True, device="cpu",
                       metric="recall")
    return toml, tmp / "out", report


def _copy_of(swept, where):
    """The swept fixture's out folder copied to ``where``: (toml, out, report) of the copy."""
    import shutil

    toml, out, report = swept
    shutil.copytree(out, where / "out")
    return toml, where / "out", where / "out" / report.relative_to(out)


def test_a_sweep_trains_each_trial_as_a_run_with_its_settings(swept):
    toml, out, report = swept
    folder = report.parent
    assert folder == out / "sweeps" / "wide-s0" / "tiny-sweep"
    recs = _records(folder)
    for model in ("gan", "wgan-gp"):
        drawn = draw_trials(model, 3, seed=0)
        for t in range(3):
            rec = recs[f"{model}-t{t:03d}-s0"]
            assert rec["sweep"]["trial"] == t and rec["sweep"]["settings"] == drawn[t]
            for key, value in drawn[t].items():
                assert rec["config"][key] == value                   # trained with the trial's settings
        best = [r for name, r in recs.items() if name.startswith(model) and name.endswith("-s1")]
        assert len(best) == 1                                         # the best trial, re-run with seed 1
    text = report.read_text()
    assert "| best recall |" in text and "Expected best recall against the number of trials" in text
    assert (folder / "figures" / "sweep_budget.png").stat().st_size > 0
    assert (folder / "sweep.csv").read_text().count("\n") == 1 + 6


def test_the_best_trial_is_the_one_with_the_best_value_and_a_second_sweep_trains_nothing(swept, tmp_path):
    from genzoo.sweep.run import run_sweep

    toml, out, report = _copy_of(swept, tmp_path)          # the second sweep rewrites the report: not the fixture's
    recs = _records(report.parent)
    for model in ("gan", "wgan-gp"):
        trial_vals = {t: recs[f"{model}-t{t:03d}-s0"]["metrics"].get("recall") for t in range(3)}
        ok = {t: v for t, v in trial_vals.items() if v is not None}
        rerun = [name for name in recs if name.startswith(model + "-t") and name.endswith("-s1")]
        assert rerun == [f"{model}-t{max(ok, key=lambda t: (ok[t], -t)):03d}-s1"]
    before = {name: r["created"] for name, r in recs.items()}
    run_sweep(toml, sweep="tiny", out=out, wandb=False, quiet=True, device="cpu", metric="recall")
    assert {name: r["created"] for name, r in _records(report.parent).items()} == before


def test_the_report_names_the_published_best_of_the_swept_models(tmp_path):
    from genzoo.sweep.report import write_report
    from genzoo.sweep.run import published_fids

    pub = published_fids("fashion-mnist", ["wgan", "dcgan", "gan"])
    assert set(pub) == {"wgan", "gan"} and "WGAN 21.5" in pub["wgan"] and "NS GAN 26.5" in pub["gan"]
    assert published_fids("ring", ["wgan"]) == {}
    from genzoo.bench.record import RunRecord

    recs = [RunRecord(model="wgan", seed=0, status="ok", metrics={"fid": 30.0 - t},
                      sweep={"trial": t, "settings": {"lr": 10.0 ** -t}}) for t in range(3)]
    text = write_report(tmp_path, recs, literature=pub, n_boot=50).read_text()
    assert "| wgan | 3 (3) | 28 | 2 |" in text and "WGAN 21.5" in text


def test_sweep_tables_are_checked():
    from genzoo.bench.spec import parse_benchmark
    from pathlib import Path
    import tomllib

    from conftest import benchmark_toml

    doc = tomllib.loads(benchmark_toml(**SWEEP))
    doc["sweeps"]["tiny"]["models"] = ["dcgan"]
    with pytest.raises(UserError, match="not the benchmark's"):
        parse_benchmark(doc, Path("x.toml"))
    doc["sweeps"]["tiny"] = {"profile": "nope"}
    with pytest.raises(UserError, match="is not one of the profiles"):
        parse_benchmark(doc, Path("x.toml"))


def test_the_searched_fields_change_what_is_trained(fashion_small, ring_data):
    """The fields the spaces set do what they say: D batch norm off removes it, n_critic D steps
    per G step, WGAN with Adam trains differently from its paper's RMSprop."""
    import torch

    def bn(m):
        return sum(isinstance(x, torch.nn.BatchNorm2d) for x in m.nets_["D"].modules())

    data = fashion_small.subset(256)
    on = genzoo.get_model("dcgan", preset="tiny", max_steps=3).fit(data, seed=0)
    off = genzoo.get_model("dcgan", preset="tiny", max_steps=3, d_batch_norm=False).fit(data, seed=0)
    assert bn(on) > 0 and bn(off) == 0
    assert genzoo.get_model("dcgan", preset="tiny", n_critic=5).batches_per_step == 5
    points = ring_data.subset(300)
    rms = genzoo.get_model("wgan", preset="tiny", max_steps=5).fit(points, seed=0).history_
    adam = genzoo.get_model("wgan", preset="tiny", max_steps=5, optimizer="adam", beta1=0.3).fit(points, seed=0).history_
    assert len(rms) == len(adam) == 5 and all(math.isfinite(r["loss_d"]) for r in adam)
    assert [r["loss_d"] for r in rms] != [r["loss_d"] for r in adam]      # the same data and noise, other updates
    with pytest.raises(ValueError, match="optimizer"):
        genzoo.get_model("wgan", optimizer="sgd")
