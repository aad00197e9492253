"""A benchmark profile's ``settings_from``: each model trained at its best trial of a committed sweep.

One tiny real sweep (``genzoo sweep`` on a tiny Fashion-MNIST benchmark: the AE, DCGAN with ``ema``
set in the profile, and LSGAN left out of the sweep) is run once for the module; the tests that need
a known ranking (ties, re-runs that must not choose) edit the metric of a copy's records and write
its report again with the sweep's own report code, so the copy is in the exact format a sweep writes.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import benchmark_toml

import genzoo
from genzoo.bench import load_benchmark, run_benchmark
from genzoo.bench.record import load_record
from genzoo.bench.spec import parse_benchmark
from genzoo.errors import UserError

REPO = Path(__file__).resolve().parents[1]
NAME = "tiny-sf"
SWEPT = "out/sweeps/wide-s0/" + NAME             # the sweep folder, from the folder above benchmarks/
TRIALS = 3
# the tiny image benchmark: ema and a searched key (beta1) set in the profile for the GANs; the
# profile takes its settings from the sweep the fixture runs (the sweep itself must not read it)
BENCH = dict(dataset="fashion-mnist", models=["ae", "dcgan", "lsgan"], n_samples=300, reference_subset=300,
             max_steps=3, settings_from=SWEPT, settings_from_skip=["lsgan"],
             family_settings={"gan": {"ema": 0.5}}, model_settings={"dcgan": {"beta1": 0.3}},
             sweeps={"s": {"profile": "tiny", "models": ["ae", "dcgan"], "trials": TRIALS, "rerun_seeds": 2}})


def write_bench(root: Path, **changes) -> Path:
    """``root/benchmarks/tiny-sf.toml``: :data:`BENCH` with ``changes`` (None removes a setting)."""
    options = {**BENCH, **changes}
    path = root / "benchmarks" / f"{NAME}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(benchmark_toml(NAME, options.pop("dataset"), options.pop("models"), **options))
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """The root of a tiny real sweep (``benchmarks/tiny-sf.toml``, ``out/sweeps/wide-s0/tiny-sf/``). Read-only."""
    from genzoo.sweep.run import run_sweep

    root = tmp_path_factory.mktemp("settings-from")
    toml = write_bench(root)               # settings_from names a folder that does not exist yet
    run_sweep(toml, sweep="s", out=root / "out", wandb=False, quiet=True, device="cpu")
    return root


def records(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((folder / "runs").glob("*/record.json"))}


def edited(swept: Path, where: Path, fids: dict[str, float]) -> Path:
    """A copy of the sweep (its benchmark file and folder) under ``where`` whose runs ``fids`` names
    have that FID, its report written again by the sweep's report code; returns the copy's root."""
    from genzoo.sweep.report import write_report

    shutil.copytree(swept / "benchmarks", where / "benchmarks")
    folder = where / SWEPT
    shutil.copytree(swept / SWEPT, folder)
    for run_id, fid in fids.items():
        path = folder / "runs" / run_id / "record.json"
        rec = json.loads(path.read_text())
        rec["metrics"]["fid"] = fid
        path.write_text(json.dumps(rec))
    write_report(folder, [load_record(p) for p in sorted(folder.glob("runs/*/record.json"))], metric="fid",
                 n_boot=20)
    return where


def plan_of(root: Path, **kw) -> dict[str, genzoo.bench.RunSpec]:
    return {s.model: s for s in load_benchmark(root / "benchmarks" / f"{NAME}.toml").plan("tiny", **kw)}


def test_the_sweep_plans_from_the_profiles_own_keys_and_keeps_ema_and_trial_0(swept):
    """The sweep ran although settings_from named no folder yet; its trials kept the profile's ema
    and its keys (trial 0: the profile's beta1), the searched keys of trial t >= 1 over them; the
    autoencoder was swept too (its learning rate); the report keeps the trial 0 column."""
    from genzoo.sweep import draw_trials

    folder = swept / SWEPT
    recs = records(folder)
    assert {r["model"] for r in recs.values()} == {"ae", "dcgan"}
    for model in ("ae", "dcgan"):
        drawn = draw_trials(model, TRIALS, seed=0)
        for t in range(TRIALS):
            rec = recs[f"{model}-t{t:03d}-s0"]
            assert rec["status"] == "ok" and rec["metrics"]["fid"] is not None, rec["reason"]
            assert rec["sweep"]["settings"] == drawn[t] and "settings_from" not in rec["plan"]
            assert all(rec["config"][k] == v for k, v in drawn[t].items())
    assert recs["ae-t001-s0"]["config"]["lr"] == draw_trials("ae", 2, seed=0)[1]["lr"] != 1e-3
    assert recs["dcgan-t000-s0"]["config"]["beta1"] == 0.3                     # trial 0: the profile's keys
    assert recs["dcgan-t001-s0"]["config"]["beta1"] == draw_trials("dcgan", 2, seed=0)[1]["beta1"] != 0.3
    assert all(recs[f"dcgan-t{t:03d}-s0"]["config"]["ema"] == 0.5 for t in range(TRIALS))
    text = (folder / "sweep.md").read_text()
    assert "| trial 0 (defaults) |" in text
    row = next(line for line in text.splitlines() if line.startswith("| dcgan |"))
    assert f"| {recs['dcgan-t000-s0']['metrics']['fid']:.4g} |" in row


def test_the_profile_takes_the_trial_the_report_ranks_best(swept):
    """On the real sweep: each swept model's plan is at the best trial of its report (sweep.csv read
    independently here: the lowest FID of each model's trials, a tie to the lower trial)."""
    from genzoo.sweep.report import collect

    folder = swept / SWEPT
    rows = [line.split(",") for line in (folder / "sweep.csv").read_text().splitlines()[1:]]
    recs = records(folder)
    ranked = collect([load_record(folder / "runs" / r / "record.json") for r in recs], "fid", True)
    specs = plan_of(swept)
    for model in ("ae", "dcgan"):
        trials = sorted((float(r[4]), int(r[1])) for r in rows if r[0] == model)
        best = trials[0][1]
        assert ranked[model].best_trial == best
        trial_run = recs[f"{model}-t{best:03d}-s0"]
        assert specs[model].settings_from == {"sweep": SWEPT, "trial": best, "metric": "fid",
                                              "value": trial_run["metrics"]["fid"],
                                              "settings": trial_run["sweep"]["settings"]}
        assert specs[model].overrides == trial_run["plan"]["overrides"]
    assert specs["lsgan"].settings_from is None                                 # settings_from_skip


def test_each_model_trains_at_its_best_trials_exact_settings_and_its_record_says_so(swept, tmp_path):
    """A sweep whose best trials are trial 2 (DCGAN) and 1 (AE): the profile's runs train with the
    trial runs' config, float for float (the profile's beta1 replaced, its ema kept), and their
    records name the sweep and the trial."""
    root = edited(swept, tmp_path, {"dcgan-t000-s0": 9.0, "dcgan-t001-s0": 8.0, "dcgan-t002-s0": 1.0,
                                    "ae-t000-s0": 7.0, "ae-t001-s0": 2.0, "ae-t002-s0": 3.0})
    trials = records(root / SWEPT)
    result = run_benchmark(root / "benchmarks" / f"{NAME}.toml", profile="tiny", models=["dcgan", "ae", "lsgan"],
                           out=tmp_path / "bench", wandb=False, quiet=True, device="cpu")
    got = {r.model: r for r in result.records}
    for model, t, fid in (("dcgan", 2, 1.0), ("ae", 1, 2.0)):
        trial = trials[f"{model}-t{t:03d}-s0"]
        assert t > 0 and trial["sweep"]["settings"]
        assert got[model].status == "ok" and got[model].config == trial["config"]
        assert got[model].plan["overrides"] == trial["plan"]["overrides"]
        assert got[model].plan["settings_from"] == {"sweep": SWEPT, "trial": t, "metric": "fid", "value": fid,
                                                    "settings": trial["sweep"]["settings"]}
        on_disk = json.loads((tmp_path / "bench" / NAME / "runs" / f"{model}-s0" / "record.json").read_text())
        assert on_disk["plan"]["settings_from"]["trial"] == t
    assert got["dcgan"].config["beta1"] == trials["dcgan-t002-s0"]["sweep"]["settings"]["beta1"] != 0.3
    assert got["dcgan"].config["ema"] == 0.5 and got["lsgan"].config["ema"] == 0.5
    assert "settings_from" not in got["lsgan"].plan and got["lsgan"].config["beta1"] == 0.5    # skipped: its defaults


def test_a_tie_goes_to_the_lower_trial_and_the_re_runs_do_not_choose(swept, tmp_path):
    """Trials 1 and 2 tie for the best FID: trial 1. The best trial's re-runs (other seeds) are not
    trials: a trial whose re-run scores far better than every trial is not chosen for it."""
    reran = next(r for r in records(swept / SWEPT) if r.startswith("dcgan-") and r.endswith("-s1"))
    t_rerun = int(reran.split("-t")[1][:3])
    fids = {f"dcgan-t{t:03d}-s0": 5.0 for t in range(TRIALS)}
    tied = [t for t in range(TRIALS) if t != t_rerun]           # two trials, neither the re-run one
    fids.update({f"dcgan-t{t:03d}-s0": 2.0 for t in tied})
    fids[f"dcgan-t{t_rerun:03d}-s0"] = 4.0
    fids[reran] = 0.1
    root = edited(swept, tmp_path, fids)
    spec = plan_of(root, models=["dcgan"])["dcgan"]
    assert spec.settings_from["trial"] == min(tied) and spec.settings_from["value"] == 2.0
    assert f"| dcgan | {TRIALS} ({TRIALS}) | 2 | {min(tied)} |" in (root / SWEPT / "sweep.md").read_text()


def test_a_model_the_sweep_lacks_is_a_one_line_error_naming_it_and_the_sweep(swept, tmp_path, capsys):
    shutil.copytree(swept / "out", tmp_path / "out")
    toml = write_bench(tmp_path, settings_from_skip=None)
    with pytest.raises(UserError) as info:
        load_benchmark(toml).plan("tiny")
    msg = str(info.value)
    assert "\n" not in msg and "'lsgan'" in msg and SWEPT in msg and "settings_from_skip" in msg
    from genzoo.cli import main

    assert main(["bench", str(toml), "--dry-run", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'lsgan'" in err[0]
    assert plan_of(tmp_path, models=["ae"])["ae"].settings_from is not None     # the others still plan


@pytest.mark.parametrize("changes, says", [
    ({"max_steps": 6}, "max_steps 6 here, 3 in the sweep"),
    ({"train_subset": 128}, "train_subset 128 here, 256 in the sweep"),
    ({"family_settings": {"gan": {"ema": 0.9}}}, "ema 0.9 here, 0.5 in the sweep"),
    ({"preset": "default"}, "preset 'default' here, 'tiny'"),
])
def test_a_sweep_of_another_budget_is_a_one_line_error(swept, tmp_path, changes, says):
    shutil.copytree(swept / "out", tmp_path / "out")
    toml = write_bench(tmp_path, **changes)
    with pytest.raises(UserError) as info:
        load_benchmark(toml).plan("tiny")
    msg = str(info.value)
    assert "\n" not in msg and says in msg and "another budget" in msg and SWEPT in msg


def test_the_sweep_folder_is_found_from_the_benchmark_file_not_the_working_directory(swept, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_benchmark(swept / "benchmarks" / f"{NAME}.toml").plan("tiny", models=["dcgan"])[0]
    assert spec.settings_from["sweep"] == SWEPT
    absolute = write_bench(tmp_path, settings_from=str(swept / SWEPT))
    assert plan_of(tmp_path, models=["dcgan"])["dcgan"].overrides == spec.overrides
    assert load_benchmark(absolute).plan("tiny", from_sweep=False)[0].settings_from is None
    gone = write_bench(tmp_path, settings_from="nowhere/sweep")
    with pytest.raises(UserError, match=r"settings_from 'nowhere/sweep': .*is not a sweep folder") as info:
        load_benchmark(gone).plan("tiny")
    assert "\n" not in str(info.value)


def test_the_dry_run_shows_where_the_settings_come_from(swept, tmp_path, capsys):
    from genzoo.cli import main

    assert main(["bench", str(swept / "benchmarks" / f"{NAME}.toml"), "--dry-run", "--out", str(tmp_path)]) == 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().out.splitlines()}
    spec = plan_of(swept)["dcgan"]
    assert (f"settings_from={SWEPT} trial {spec.settings_from['trial']} (fid {spec.settings_from['value']:.4g})"
            in lines[f"{NAME}/dcgan-s0"])
    assert "settings_from" not in lines[f"{NAME}/lsgan-s0"]


def test_the_keys_are_checked_when_the_file_is_read():
    def refused(profile: dict, defaults: dict | None = None) -> str:
        doc = tomllib.loads(benchmark_toml(NAME, "fashion-mnist", ["ae", "dcgan"]))
        doc["profiles"]["tiny"].update(profile)
        doc["defaults"] = defaults or {}
        with pytest.raises(UserError) as info:
            parse_benchmark(doc, Path("x.toml")).plan("tiny")
        assert "\n" not in str(info.value)
        return str(info.value)

    assert "belongs in a profile" in refused({}, {"settings_from": SWEPT})
    assert "must be the path of a sweep folder" in refused({"settings_from": 3})
    assert "without settings_from" in refused({"settings_from_skip": ["ae"]})
    assert "['gan'], which the benchmark's models" in refused({"settings_from": SWEPT, "settings_from_skip": ["gan"]})
    assert "cannot be set per model" in refused({"models": {"ae": {"settings_from": SWEPT}}})


def test_the_committed_quick_sweep_feeds_the_quick_profile():
    """benchmarks/fashion.toml's quick profile trains every model at the trial of lowest FID in
    the committed sweep its settings_from names (sweep.csv), at the exact floats sweep.csv shows;
    the sweep itself (trial_specs) plans from the profile's own keys, trial 0 the defaults."""
    from genzoo.sweep.run import trial_specs

    path = REPO / "benchmarks" / "fashion.toml"
    doc = tomllib.loads(path.read_text())
    quick = doc["profiles"]["quick"]
    source = quick["settings_from"]
    rows = [line.split(",") for line in (REPO / source / "sweep.csv").read_text().splitlines()[1:]]
    assert sorted({r[0] for r in rows}) == sorted(quick["only"]) == sorted(doc["sweeps"]["quick"]["models"])
    bench = load_benchmark(path)
    specs = {s.model: s for s in bench.plan("quick", seeds=[0])}
    assert set(specs) == set(quick["only"])
    for model, spec in specs.items():
        fid, trial, settings = min((float(r[4]), int(r[1]), r[5]) for r in rows if r[0] == model and r[4])
        assert spec.settings_from["trial"] == trial and spec.settings_from["value"] == fid
        assert spec.settings_from["sweep"] == source
        for item in filter(None, settings.split(";")):            # trial 0 (the defaults) has none
            key, text = item.split("=")
            value = spec.overrides[key]
            assert str(value) == text and (not isinstance(value, float) or value == float(text))
    for spec in trial_specs(bench, "quick", list(quick["only"]), 2, level="wide", seed=0):
        assert spec.settings_from is None                      # the sweep plans from the profile's own keys
        genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
    ae = trial_specs(bench, "quick", ["ae"], 2, level="wide", seed=0)
    assert ae[0].overrides == {"epochs": 1.0, "batch_size": 64} and set(ae[1].sweep["settings"]) == {"lr"}