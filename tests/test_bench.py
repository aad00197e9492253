"""The benchmark runner end to end on tiny benchmarks: real models, real data, real (offline) W&B.

The benchmark files of the repository are checked for what they promise; the runs use TOML files
written into a temporary folder, with the ``tiny`` presets, so the whole file takes well under a
minute on two CPU cores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import benchmark_toml

import genzoo
from genzoo.bench import load_benchmark, read_record, run_benchmark
from genzoo.bench.artifacts import atomic_path, read_samples, write_json
from genzoo.bench.cli import main as bench_main
from genzoo.bench.spec import RUNNER_KEYS
from genzoo.errors import UserError

REPO = Path(__file__).resolve().parents[1]
RECORD_KEYS = {"benchmark", "model", "dataset", "seed", "profile", "status", "reason", "config", "train",
               "versions", "git_commit", "device", "wall_time_s", "throughput", "metrics", "higher_is_better",
               "notes", "per_class", "created"}

# the tiny ring benchmark (conftest's make_benchmark): gan and wgan with two seeds, dcgan (images
# only) skipped; its variants are keywords of make_benchmark
RING = dict(name="tiny-ring", dataset="ring", models=["gan", "wgan", "dcgan"], seeds=[0, 1],
            dataset_options={"n": 2000}, reference_subset=1000, n_samples=500, max_steps=15, images=1)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def _runs(out: Path, bench: str) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((out / bench / "runs").glob("*/record.json"))}


def _wandb_run_dirs(out: Path, bench: str) -> list[str]:
    return sorted(p.name for p in (out / bench / "wandb").glob("*run-*"))


@pytest.fixture(scope="module")
def ring(make_benchmark):
    """The tiny ring benchmark, run once: gan and wgan trained with two seeds, dcgan skipped. The
    tests that run it again work on a copy of its results (:func:`_own_copy`), so that none sees
    what another did, whatever their order."""
    toml = make_benchmark(**RING)
    out = toml.parent / "results"
    result = run_benchmark(toml, profile="tiny", out=out, quiet=True)
    return toml, out, result


def _own_copy(ring, tmp_path: Path):
    """``ring`` with its results folder copied into ``tmp_path`` (files, times and links as they are)."""
    toml, out, result = ring
    mine = tmp_path / "results"
    shutil.copytree(out, mine, symlinks=True)
    return toml, mine, result


# ------------------------------------------------------------------------ the benchmark files

@pytest.mark.parametrize("name", ["fashion", "modes-ring", "modes-grid", "modes-stacked", "pattern-1010"])
def test_repository_benchmarks_are_valid(name):
    bench = load_benchmark(REPO / "benchmarks" / f"{name}.toml")
    assert bench.name == name and bench.default_profile == "quick"
    assert {"quick", "paper"} <= set(bench.profiles)
    for profile in bench.profiles:
        for spec in bench.plan(profile):  # every override is a real config key of its model
            model = genzoo.get_model(spec.model, preset=spec.preset, **spec.overrides)
            assert model.name == spec.model
    if name == "fashion":
        assert bench.models == genzoo.list_models() and bench.dataset == "fashion-mnist"
        paper = bench.plan("paper")
        assert len({s.seed for s in paper}) >= 5
        assert all(s.settings.n_samples == 10_000 and s.overrides["epochs"] == 20 for s in paper)
        assert all(not s.settings.train_subset and not s.settings.reference_subset for s in paper)
    elif name == "pattern-1010":
        assert bench.models == ["gan", "lsgan"]
    else:
        assert {"gan", "wgan", "dcgan", "cgan"} <= set(bench.models)
    quick = bench.plan("quick")                    # the main job: three seeds of every model it trains
    assert {s.seed for s in quick} == {0, 1, 2} and len(quick) == 3 * len({s.model for s in quick})


def test_repository_benchmarks_take_every_registered_model_with_its_family_budget():
    """A model added to the registry is in every benchmark and gets its family's budget with no
    entry of its own (the paper profile); the quick profiles train the models they name (`only`),
    each with its family's budget."""
    paper = {s.model: s for s in load_benchmark(REPO / "benchmarks" / "fashion.toml").plan("paper", seeds=[0])}
    assert list(paper) == genzoo.list_models()
    # the profile's own keys (what its sweep trains at; the quick profile itself adds the sweep's best settings)
    quick = {s.model: s for s in load_benchmark(REPO / "benchmarks" / "fashion.toml").plan("quick", seeds=[0],
                                                                                       from_sweep=False)}
    assert {"vae", "dcgan", "cgan", "pacdcgan2", "wgan"} <= set(quick) and "pacgan4" not in quick
    assert quick["lsgan"].overrides == {"epochs": 1.0, "g_width": 16, "d_width": 16, "batch_size": 32} \
        == quick["dcgan"].overrides
    assert quick["cgan"].overrides == {**quick["dcgan"].overrides, "ema": 0.999}         # its own table
    assert quick["gan"].overrides == {"epochs": 1.0, "batch_size": 32}                  # no conv widths
    assert quick["vae"].overrides == {"epochs": 1.0, "batch_size": 64}
    ring = {s.model: s for s in load_benchmark(REPO / "benchmarks" / "modes-ring.toml").plan("paper", seeds=[0])}
    assert set(ring) == set(genzoo.list_models())
    ring = {s.model: s for s in load_benchmark(REPO / "benchmarks" / "modes-ring.toml").plan("quick", seeds=[0])}
    assert ring["gan-mbstd"].overrides == {"max_steps": 8000, "g_hidden": [256, 256, 256], "d_hidden": [256, 256, 256]}
    assert set(ring) >= {"gan", "pacgan2", "gan-mbstd", "gan-mbdisc", "gan-replay"}


def test_model_selection_and_family_tables(tmp_path, make_benchmark):
    bench = load_benchmark(make_benchmark(**{**RING, "models": ["family:autoencoder", "wgan", "all"]},
                                          family_settings={"gan": {"max_steps": 3, "d_hidden": [16], "n_samples": 50}},
                                          model_settings={"wgan": {"max_steps": 4}}))
    assert bench.models[:3] == ["ae", "vae", "wgan"] and sorted(bench.models) == genzoo.list_models()
    plan = {s.model: s for s in bench.plan("tiny", seeds=[0])}
    assert plan["lsgan"].overrides == {"max_steps": 3, "d_hidden": [16]} and plan["lsgan"].settings.n_samples == 50
    assert plan["wgan"].overrides == {"max_steps": 4, "d_hidden": [16]}              # the model's table wins
    assert plan["dcgan"].overrides == {"max_steps": 3}                               # no d_hidden field
    assert plan["vae"].overrides == {"max_steps": 15} and plan["vae"].settings.n_samples == 500
    for models, why in [(["family:flows"], "unknown family 'flows'"), (["bigan"], "unknown model")]:
        with pytest.raises(UserError, match=why):
            load_benchmark(make_benchmark(**{**RING, "models": models}))
    # a string, not a list (benchmark_toml writes a list)
    some = benchmark_toml(**RING).replace('models = ["gan", "wgan", "dcgan"]', 'models = "some"')
    with pytest.raises(UserError, match="needs models"):
        load_benchmark(_write(tmp_path, "bad", some))
    with pytest.raises(UserError, match="unknown family 'flows'"):
        load_benchmark(make_benchmark(**RING, family_settings={"flows": {"max_steps": 3}}))
    with pytest.raises(UserError, match=r"\['width'\] is a config key of no gan model"):
        load_benchmark(make_benchmark(**RING, family_settings={"gan": {"width": 3}}))


def test_a_profile_can_train_a_subset_of_the_models(make_benchmark):
    """``only`` in a profile: the runs it plans (in the benchmark's order); ``--models`` still wins."""
    bench = load_benchmark(make_benchmark(**RING, only=["wgan", "family:autoencoder"]))
    assert [s.model for s in bench.plan("tiny", seeds=[0])] == ["wgan"]           # ae/vae are not in the benchmark
    assert [s.model for s in bench.plan("tiny", models=["gan"], seeds=[0])] == ["gan"]
    for bad, why in [(["dcgan", "lsgan"], r"only names \['lsgan'\]"),
                     ("gan", "only must be a list of model names"), (["nope"], "unknown model 'nope'")]:
        with pytest.raises(UserError, match=why):
            load_benchmark(make_benchmark(**RING, only=bad))


def test_bad_benchmark_files_are_user_errors(tmp_path, make_benchmark):
    bad_key = make_benchmark(**RING, model_settings={"gan": {"no_such_key": 1}})
    with pytest.raises(UserError, match="no_such_key"):
        run_benchmark(bad_key, profile="tiny", out=tmp_path / "r", wandb=False, quiet=True)
    with pytest.raises(UserError, match="no profile"):
        run_benchmark(make_benchmark(**RING), profile="nope", out=tmp_path / "r", quiet=True)
    with pytest.raises(UserError, match="seeds"):
        load_benchmark(make_benchmark(**{**RING, "seeds": 3}))
    with pytest.raises(UserError, match="TOML"):
        load_benchmark(_write(tmp_path, "broken", "[benchmark\n"))
    with pytest.raises(UserError, match="unknown benchmark"):
        load_benchmark("no-such-benchmark")
    assert not (tmp_path / "r").exists()  # nothing ran
    assert set(RUNNER_KEYS) >= {"seeds", "preset", "train_subset", "n_samples"}


# ------------------------------------------------------------------------------- the records

def test_records_have_the_schema_and_finite_metrics(ring):
    _, out, result = ring
    runs = _runs(out, "tiny-ring")
    assert set(runs) == {f"{m}-s{s}" for m in ("gan", "wgan", "dcgan") for s in (0, 1)}
    assert [f"{r.model}-s{r.seed}" for r in result.records] == [
        "gan-s0", "gan-s1", "wgan-s0", "wgan-s1", "dcgan-s0", "dcgan-s1"]
    for run_id, rec in runs.items():
        assert RECORD_KEYS <= set(rec), run_id
        assert rec["benchmark"] == "tiny-ring" and rec["dataset"] == "ring" and rec["profile"] == "tiny"
        assert set(rec["versions"]) >= {"genzoo", "torch", "torchvision", "torchmetrics", "wandb", "python"}
        assert rec["versions"]["genzoo"] == genzoo.__version__ and rec["versions"]["torch"]
    for run_id in ("gan-s0", "gan-s1", "wgan-s0", "wgan-s1"):
        rec, d = runs[run_id], out / "tiny-ring" / "runs" / run_id
        assert rec["status"] == "ok" and rec["reason"] is None
        assert rec["device"] == "cpu" and rec["config"]["max_steps"] == 15
        assert rec["train"]["steps"] == 15 and rec["train"]["train_items"] == 2000
        assert set(rec["metrics"]) >= {"modes_covered", "high_quality"}
        assert all(isinstance(v, float) and math.isfinite(v) for v in rec["metrics"].values())
        assert rec["higher_is_better"]["modes_covered"] is True
        assert rec["wall_time_s"] > 0 and rec["throughput"]["train_items_per_s"] > 0
        assert rec["throughput"]["sample_items_per_s"] > 0
        assert (d / "samples.png").stat().st_size > 0
        assert torch.load(d / "samples.pt", weights_only=True).shape == (2500, 2)
        history = gzip.decompress((d / "history.csv.gz").read_bytes()).decode().splitlines()
        assert history[0].startswith("step,epoch,loss_d,loss_g") and len(history) == 1 + 15
        model = genzoo.load(d / "checkpoint")  # the checkpoint is a loadable model
        assert model.name == rec["model"] and model.sample(3, seed=0).shape == (3, 2)
    for s in (0, 1):
        rec = runs[f"dcgan-s{s}"]
        assert rec["status"] == "skipped" and "image" in rec["reason"] and rec["metrics"] == {}
    # another seed, another model
    s0, s1 = (torch.load(out / "tiny-ring" / "runs" / f"gan-s{s}" / "samples.pt", weights_only=True) for s in (0, 1))
    assert not torch.equal(s0, s1)
    # no temporary files left behind by the atomic writes
    assert not [p for p in (out / "tiny-ring").rglob("*.tmp")]


def test_resume_does_no_training(ring, tmp_path):
    toml, out, _ = _own_copy(ring, tmp_path)
    before = {k: (v["created"], (out / "tiny-ring" / "runs" / k / "record.json").stat().st_mtime_ns)
              for k, v in _runs(out, "tiny-ring").items()}
    wandb_before = _wandb_run_dirs(out, "tiny-ring")
    result = run_benchmark(toml, profile="tiny", out=out, quiet=True)
    assert result.executed == [] and len(result.resumed) == 6
    after = {k: (v["created"], (out / "tiny-ring" / "runs" / k / "record.json").stat().st_mtime_ns)
             for k, v in _runs(out, "tiny-ring").items()}
    assert after == before
    assert _wandb_run_dirs(out, "tiny-ring") == wandb_before  # no new W&B run (not even a summary)


def test_profile_auto_and_the_estimate_from_reference_records(ring, tmp_path):
    """``--profile auto`` (the default) is paper on a CUDA device and quick on a CPU; the plan's
    time is estimated from the reference records of the same model, profile and kind of device."""
    from genzoo.bench.cli import add_parser
    from genzoo.bench.plan import resolve_profile
    from genzoo.bench.times import RunTimes

    toml, out, result = ring
    fashion = load_benchmark(REPO / "benchmarks" / "fashion.toml")
    assert resolve_profile(fashion, "auto", "cpu") == ("quick", "no CUDA device")
    assert resolve_profile(fashion, None, "cuda:0") == ("paper", "a CUDA device")
    assert resolve_profile(fashion, "tiny", "cuda") == ("tiny", "asked for")
    bench = load_benchmark(toml)
    specs = [s for s in bench.plan("tiny") if s.model != "dcgan"]
    times = RunTimes.read(bench, "cpu", reference=out)
    eta = times.wall_s(specs, 1)
    by_model = {}
    for r in result.records:
        by_model.setdefault(r.model, []).append(r.wall_time_s)
    assert times.records == 6 and eta == pytest.approx(sum(2 * float(np.median(v)) for m, v in by_model.items() if m != "dcgan"))
    assert RunTimes.read(bench, "cuda", reference=out).wall_s(specs, 1) is None   # no GPU records
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["bench", "fashion"])
    assert (args.profile, args.out) == ("auto", "out")          # a user's runs never go into results/


def test_force_redoes_and_a_half_done_run_is_redone(ring, tmp_path):
    toml, out, _ = _own_copy(ring, tmp_path)         # it deletes and rewrites records
    runs_dir = out / "tiny-ring" / "runs"
    old = _runs(out, "tiny-ring")
    # a run killed half-way: files but no record -> done again, from a clean folder
    (runs_dir / "wgan-s1" / "record.json").unlink()
    (runs_dir / "wgan-s1" / "leftover.tmp").write_text("partial")
    n_wandb = len(_wandb_run_dirs(out, "tiny-ring"))
    assert bench_main([str(toml), "--profile", "tiny", "--out", str(out), "--models", "gan", "--seeds", "0",
                       "--force", "-q"]) == 0
    result = run_benchmark(toml, profile="tiny", out=out, quiet=True)
    assert result.executed == ["wgan-s1"]
    new = _runs(out, "tiny-ring")
    assert new["gan-s0"]["created"] >= old["gan-s0"]["created"]
    assert new["gan-s0"]["metrics"] == old["gan-s0"]["metrics"]  # same seed, same numbers
    assert new["wgan-s1"]["metrics"] == old["wgan-s1"]["metrics"]
    assert not (runs_dir / "wgan-s1" / "leftover.tmp").exists()
    for k in ("gan-s1", "wgan-s0", "dcgan-s0"):
        assert new[k]["created"] == old[k]["created"]
    # gan-s0 forced, wgan-s1 redone: two more tracked runs, plus one summary run each time
    assert len(_wandb_run_dirs(out, "tiny-ring")) == n_wandb + 4


def test_a_record_of_another_plan_is_not_silently_reused(ring, tmp_path, make_benchmark):
    _, out, _ = _own_copy(ring, tmp_path)
    changed = make_benchmark(**{**RING, "max_steps": 16})
    with pytest.raises(UserError, match="different plan"):
        run_benchmark(changed, profile="tiny", out=out, quiet=True, models=["gan"])


def test_divergence_and_crash_are_recorded_and_the_benchmark_goes_on(tmp_path, capsys, make_benchmark):
    # divergence (an absurd learning rate), a crash (an image metric on 2-D points: its scoring
    # raises), then a run that must still happen
    toml = make_benchmark("tiny-broken", "ring", ["wgan", "cgan", "gan"], reference_subset=None, max_steps=10,
                          model_settings={"wgan": {"lr": 1e30}, "cgan": {"metrics": ["sharpness"]}})
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "results", wandb=False)
    status = {f"{r.model}-s{r.seed}": r for r in result.records}
    assert status["wgan-s0"].status == "diverged"
    assert "diverged" in status["wgan-s0"].reason and status["wgan-s0"].metrics == {}
    assert status["cgan-s0"].status == "failed" and "does not apply" in status["cgan-s0"].reason
    run_dir = tmp_path / "results" / "tiny-broken" / "runs"
    assert "Traceback" in (run_dir / "cgan-s0" / "error.txt").read_text()
    assert not (run_dir / "cgan-s0" / "checkpoint").exists()
    assert status["gan-s0"].status == "ok" and status["gan-s0"].metrics
    for rec in status.values():
        assert read_record(run_dir / f"{rec.model}-s{rec.seed}") == rec  # final: resumable
    assert not (tmp_path / "results" / "tiny-broken" / "wandb").exists()  # --no-wandb
    printed = capsys.readouterr().out  # progress lines, then the summary table
    assert "[3/3] gan-s0: ok" in printed and "wgan-s0: diverged: training diverged" in printed
    table = printed[printed.index("records in"):]
    assert all(word in table for word in ("status", "modes_covered", "diverged", "failed", "ok"))


def test_image_benchmark_normal_prior_and_per_class(tmp_path, make_benchmark):
    toml = make_benchmark("tiny-fashion", "fashion-mnist", ["ae", "cgan"], train_subset=512, reference_subset=512,
                          n_samples=300, per_class_samples=30, max_steps=10, images=1)
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "results", wandb=False, quiet=True)
    ae, cgan = result.records
    run_dir = tmp_path / "results" / "tiny-fashion" / "runs"
    assert ae.status == "ok", ae.reason
    assert cgan.status == "ok", cgan.reason
    # the AE is scored twice: its fitted code Gaussian, and N(0, I) codes
    plain = {k for k in ae.metrics if not k.endswith("_normal_prior")}
    assert plain and {f"{k}_normal_prior" for k in plain} <= set(ae.metrics)
    assert all(v is None or math.isfinite(v) for v in ae.metrics.values())
    assert torch.load(run_dir / "ae-s0" / "samples_normal_prior.pt", weights_only=True).shape == (64, 1, 28, 28)
    # what each of its two scores measured (the main one, and the N(0, I) codes' within it)
    assert ae.scoring["samples"] == 300 and ae.scoring["normal_prior"]["samples"] == 300
    assert ae.scoring["reference_items"] <= ae.train["reference_items"] == 512
    assert (run_dir / "ae-s0" / "samples_normal_prior.png").is_file()
    # the cGAN: one row of 8 per class in samples.png, and per-class scores
    stored = torch.load(run_dir / "cgan-s0" / "samples.pt", weights_only=True)
    assert stored.shape == (80, 1, 28, 28) and stored.dtype == torch.uint8     # images stored as 0..255
    # ... and they are the model's samples: the same grid drawn again, to 8 bits
    model = genzoo.load(run_dir / "cgan-s0" / "checkpoint")
    again = model.sample(80, labels=torch.arange(10).repeat_interleave(8), seed=1234)
    assert (read_samples(run_dir / "cgan-s0" / "samples.pt") - again).abs().max() <= 0.5 / 255 + 1e-6
    assert list(cgan.per_class) == list(genzoo.data.CLASS_NAMES)
    for entry in cgan.per_class.values():
        assert 0.0 <= entry["accuracy"] <= 1.0
    assert ae.per_class is None


def test_the_committed_records_load_as_typed_records_and_lose_nothing():
    """The records of results/ (most predate the schema version: version 1) load with every key
    as it was, and are written back unchanged but for the fields they lacked (at their defaults)."""
    from genzoo.bench import SCHEMA_VERSION, RunRecord, load_record

    paths = sorted((REPO / "results").glob("*/runs/*/record.json"))
    assert len(paths) >= 50
    defaults = RunRecord().to_dict()
    for path in paths:
        raw = json.loads(path.read_text())
        rec = load_record(path)
        assert rec.schema == raw.get("schema", 1) <= SCHEMA_VERSION and rec.engine == raw.get("engine")
        assert (rec.run_id, rec.status, rec.metrics) == (raw["run_id"], raw["status"], raw["metrics"])
        assert rec.plan == raw["plan"] and rec.fingerprint == raw["plan"]["fingerprint"]
        again = rec.to_dict()
        assert {k: again[k] for k in raw} == raw, path
        assert all(again[k] == defaults[k] for k in set(again) - set(raw) - {"schema"}), path
        assert RunRecord.from_dict(again) == rec
    # a key this version does not know is kept, not dropped
    odd = RunRecord.from_dict({"status": "ok", "from_the_future": [1, 2]})
    assert odd.extra == {"from_the_future": [1, 2]} and odd.to_dict()["from_the_future"] == [1, 2]


def test_atomic_write_leaves_the_old_file_or_the_new_one(tmp_path):
    path = tmp_path / "record.json"
    write_json(path, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text('{"a": 2, "half')
            raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]
    write_json(path, {"a": float("nan"), "b": (1, 2)})  # strict JSON: NaN -> null
    assert json.loads(path.read_text()) == {"a": None, "b": [1, 2]}


def test_genzoo_command_line(tmp_path, capsys, make_benchmark):
    from genzoo.cli import main

    toml = make_benchmark(**RING)
    assert main(["bench", "--list"]) == 0
    assert "fashion" in capsys.readouterr().out
    assert main(["bench", str(toml), "--profile", "tiny", "--out", str(tmp_path / "r"), "--dry-run",
                 "--models", "gan", "--seeds", "0-2"]) == 0
    out = capsys.readouterr().out
    assert "tiny-ring/gan-s2: todo" in out and "wgan" not in out
    # a record left by another plan (e.g. the quick profile) is reported, not passed off as done
    (tmp_path / "r" / "tiny-ring" / "runs" / "gan-s0").mkdir(parents=True)
    write_json(tmp_path / "r" / "tiny-ring" / "runs" / "gan-s0" / "record.json",
               {"status": "ok", "plan": {"fingerprint": "0123456789abcdef"}})
    assert main(["bench", str(toml), "--profile", "tiny", "--out", str(tmp_path / "r"), "--dry-run",
                 "--models", "gan", "--seeds", "0-1"]) == 0
    out = capsys.readouterr().out
    assert "tiny-ring/gan-s0: CONFLICT" in out and "tiny-ring/gan-s1: todo" in out
    shutil.rmtree(tmp_path / "r")
    assert main(["bench", str(toml), "--models", "nope", "--out", str(tmp_path / "r")]) == 2
    assert main(["bench", str(toml), "--device", "cuda:7" if not torch.cuda.is_available() else "nope",
                 "--out", str(tmp_path / "r")]) == 2
    for flag, bad in (("--gpus-per-run", "-1"), ("--gpus-per-run", "half"), ("--cpus-per-run", "x"),
                      ("--engine", "dask")):
        with pytest.raises(SystemExit):
            main(["bench", str(toml), flag, bad, "--out", str(tmp_path / "r")])
        assert flag in capsys.readouterr().err
    # Ray's options belong to --engine ray
    assert main(["bench", str(toml), "--address", "10.0.0.1:6379", "--out", str(tmp_path / "r")]) == 2
    assert "--address only applies with --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_engine_ray_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch, make_benchmark):
    from genzoo.cli import main

    toml = make_benchmark(**RING)
    monkeypatch.setitem(sys.modules, "ray", None)          # what `import ray` meets where it is not installed
    assert main(["bench", str(toml), "--profile", "tiny", "--engine", "ray", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'genzoo[ray]'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_pilot_scores_each_model_at_the_chosen_steps_without_counting_the_scoring(tmp_path, make_benchmark):
    """The pilot behind the quick profiles: one fit per model, paused and scored at each step
    count; a table and a sample plot per pause; its scores are those of a fit of that length."""
    from genzoo.bench.pilot import main as pilot_main, run_pilot

    bench = make_benchmark(**RING)
    rows = run_pilot(str(bench), [5, 10], profile="tiny", models=["gan", "dcgan"], out=tmp_path / "p")
    assert list(rows) == ["gan"]                                   # dcgan does not apply to points
    assert [r["step"] for r in rows["gan"]] == [5, 10] and rows["gan"][0]["train_s"] <= rows["gan"][1]["train_s"]
    md = (tmp_path / "p" / "tiny-ring.md").read_text()
    assert "## gan" in md and '"max_steps": 10' in md
    assert (tmp_path / "p" / "tiny-ring.csv").read_text().splitlines()[0].startswith("model,step,epoch,train_s")
    assert sorted(p.name for p in (tmp_path / "p" / "tiny-ring").iterdir()) == ["gan-10.png", "gan-5.png"]
    from genzoo import metrics as gm                                # the pause at 5 = a fit of 5 steps
    m = genzoo.get_model("gan", "tiny", max_steps=5, epochs=1.0).fit(genzoo.data.load("ring", n=2000), seed=0)
    ref = genzoo.data.load("ring", "test", n=2000).subset(1000, seed=0)
    s = gm.score(m.sample(500, seed=10_000), ref, n=500, seed=0, progress=False)
    assert rows["gan"][0]["modes_covered"] == round(float(s["modes_covered"]), 4)
    assert pilot_main([str(bench), "--steps", "5,x"]) == 2
    assert pilot_main([str(bench), "--steps", "5", "--profile", "nope"]) == 2
