"""What the benchmark runner logs to Weights & Biases, read back from the offline run folders on
disk (wandb's transaction log, decoded with wandb's own protobuf messages): no server, no mocks."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from genzoo.bench import read_record, run_benchmark
from genzoo.bench.tracking.replay import log_records
from genzoo.bench.tracking import WandbSession, has_api_key, resolve_mode
from genzoo.bench.tracking.offline import CorruptLogError, find_runs, iter_log_records, read_run
from genzoo.errors import UserError

# the tiny grid benchmark (conftest's make_benchmark); its variants are keywords of make_benchmark
W = dict(name="tiny-wandb", dataset="grid", models=["gan", "cgan"], seeds=[3], dataset_options={"n": 2000},
         reference_subset=1000, n_samples=500, per_class_samples=20, max_steps=12, log_every=2, images=2,
         model_settings={"cgan": {"lr_g": 1e-3, "ema": 0.9}})
GAN_ONLY = {**W, "models": ["gan"], "model_settings": None}   # the gan alone: the cgan's table goes with it


@pytest.fixture(scope="module")
def logged(tmp_path_factory, make_benchmark):
    tmp = tmp_path_factory.mktemp("bench-wandb")
    make_benchmark(**W, folder=tmp)
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    try:
        result = run_benchmark(tmp / "tiny-wandb.toml", profile="tiny", out=tmp / "results",
                               wandb_project="genzoo-tests", quiet=True)
    finally:
        mp.undo()
    runs = {r.name: r for r in find_runs(tmp / "results" / "tiny-wandb" / "wandb")}
    return result, runs, tmp / "results" / "tiny-wandb"


def test_one_offline_run_per_model_and_seed_plus_a_summary(logged):
    result, runs, bench_dir = logged
    assert result.wandb_mode == "offline"
    assert set(runs) == {"gan-s3", "cgan-s3", "tiny-wandb-summary"}
    for name, run in runs.items():
        assert run.dir.name.startswith("offline-run-") and run.dir.parent == bench_dir / "wandb"
        assert run.project == "genzoo-tests" and run.group == "tiny-wandb"
        assert run.finished and run.exit_code == 0
    assert runs["gan-s3"].job_type == "gan" and runs["cgan-s3"].job_type == "cgan"
    assert runs["tiny-wandb-summary"].job_type == "summary"
    for rec in result.records:  # the record points at its W&B run
        assert rec.wandb["mode"] == "offline" and rec.wandb["group"] == "tiny-wandb"
        assert Path(rec.wandb["dir"]) == runs[f"{rec.model}-s{rec.seed}"].dir


def test_config_history_and_summary(logged):
    result, runs, _ = logged
    for rec in result.records:
        run = runs[f"{rec.model}-s{rec.seed}"]
        cfg = run.config
        assert cfg["benchmark"] == "tiny-wandb" and cfg["profile"] == "tiny" and cfg["dataset"] == "grid"
        assert cfg["model"] == rec.model and cfg["seed"] == 3 and cfg["preset"] == "tiny"
        assert cfg["model_config"]["max_steps"] == 12 and cfg["model_config"] == json.loads(json.dumps(rec.config))
        assert cfg["versions"]["torch"] == rec.versions["torch"]
        if rec.model == "cgan":
            assert cfg["overrides"] == {"max_steps": 12, "lr_g": 1e-3, "ema": 0.9} and cfg["model_config"]["lr_g"] == 1e-3
        # which networks sampled (and so were scored): the cGAN's averaged generator, the GAN's own
        sampled = {"cgan": ["G_ema", "g_embed_ema"], "gan": ["G"]}[rec.model]
        assert rec.train["sampled_with"] == cfg["train"]["sampled_with"] == sampled
        # per-step losses, every log_every=2 steps (and step 1)
        steps = [row["_step"] for row in run.history if "train/loss_d" in row]
        assert steps == [1, 2, 4, 6, 8, 10, 12]
        assert all(isinstance(row["train/loss_g"], float) for row in run.history if "train/loss_g" in row)
        # sample grids during training, and the final one
        grids = [row["train/samples"] for row in run.history if "train/samples" in row]
        assert len(grids) == 2 and all(g["_type"] == "image-file" for g in grids)
        assert (run.dir / "files" / grids[0]["path"]).stat().st_size > 0
        assert run.summary["samples"]["_type"] == "image-file"
        # final metrics in the summary, equal to the record's
        assert run.summary["status"] == "ok"
        for k, v in rec.metrics.items():
            assert run.summary[k] == pytest.approx(v), k
        assert {"modes_covered", "high_quality"} <= set(rec.metrics)
    cgan = runs["cgan-s3"].summary
    assert 0.0 <= cgan["per_class/mode 0/accuracy"] <= 1.0


def test_comparison_table_of_all_runs(logged):
    result, runs, _ = logged
    table = runs["tiny-wandb-summary"].table("comparison")
    cols = table["columns"]
    assert cols[:4] == ["run", "model", "seed", "status"] and "modes_covered" in cols
    rows = {row[0]: dict(zip(cols, row)) for row in table["data"]}
    assert set(rows) == {"gan-s3", "cgan-s3"}
    for rec in result.records:
        row = rows[f"{rec.model}-s{rec.seed}"]
        assert row["status"] == rec.status == "ok"
        assert row["modes_covered"] == rec.metrics["modes_covered"]
    assert runs["tiny-wandb-summary"].config["benchmark"] == "tiny-wandb"


def test_a_torn_log_tail_is_tolerated_and_a_foreign_file_refused(logged, tmp_path):
    _, runs, _ = logged
    log = next(runs["gan-s3"].dir.glob("run-*.wandb"))
    whole = list(iter_log_records(log))
    torn = tmp_path / "run-torn.wandb"
    torn.write_bytes(log.read_bytes()[:-5])           # killed mid-record
    assert list(iter_log_records(torn)) == whole[:-1]
    (tmp_path / "x.wandb").write_bytes(b"not a log")
    with pytest.raises(CorruptLogError):
        list(iter_log_records(tmp_path / "x.wandb"))


def test_mode_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))             # no ~/.netrc, no wandb settings
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    for var in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_DISABLED"):
        monkeypatch.delenv(var, raising=False)
    assert not has_api_key()
    assert resolve_mode()[0] == "offline"
    assert resolve_mode(enabled=False)[0] == "disabled"
    (tmp_path / ".netrc").write_text(f"machine api.wandb.ai\n  login user\n  password {'a' * 40}\n")
    (tmp_path / ".netrc").chmod(0o600)
    assert has_api_key() and resolve_mode()[0] == "online"
    monkeypatch.setenv("WANDB_MODE", "offline")             # the user's WANDB_MODE wins
    assert resolve_mode()[0] == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode()[0] == "disabled"
    assert not WandbSession(project=None, group="g", root=tmp_path).start(name="x", job_type="y", config={}).active


def test_an_unreachable_server_neither_hangs_nor_loses_the_run(monkeypatch, tmp_path, make_benchmark):
    """Online mode against a closed port: the session sees it before the first run, says so once,
    and logs every run offline; the benchmark records them as usual."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", "b" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    toml = make_benchmark(**{**W, "seeds": [3, 4]})
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "r", quiet=True)
    assert [r.status for r in result.records] == ["ok"] * 4 and result.wandb_mode == "offline"
    assert len(result.warnings) == 1 and "127.0.0.1:9 does not answer" in result.warnings[0]
    for rec in result.records:
        assert rec.wandb["mode"] == "offline"
        run = read_run(rec.wandb["dir"])
        assert run.name == rec.run_id and run.summary["modes_covered"] == rec.metrics["modes_covered"]


@pytest.fixture
def silent_server():
    """A W&B server that accepts connections and never answers (a hung proxy, a dead backend):
    only wandb.init's own time-out can tell."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)                       # the kernel completes the handshakes; nobody reads
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_a_server_that_never_answers_is_waited_for_once(monkeypatch, tmp_path, silent_server, make_benchmark):
    """The first wandb.init times out; the session goes offline for every later run with one
    warning, the failed start leaves no folder, and its wait is not counted in the run's time."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", "c" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", silent_server)
    monkeypatch.setenv("WANDB_INIT_TIMEOUT", "2")
    toml = make_benchmark(**{**W, "seeds": [3, 4]})
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "r", quiet=True)
    assert [r.status for r in result.records] == ["ok"] * 4
    assert len(result.warnings) == 1 and "wandb.init (online) failed for gan-s3" in result.warnings[0]
    assert all(r.wandb["mode"] == "offline" for r in result.records)
    first = result.records[0]
    assert first.wandb_start_s >= 2.0           # the time-out, set aside from wall_time_s
    folders = sorted(p.name for p in (tmp_path / "r" / "tiny-wandb" / "wandb").iterdir()
                     if p.is_dir() and not p.is_symlink())                       # not wandb's latest-run link
    assert len(folders) == 5 and all(f.startswith("offline-run-") for f in folders), folders   # 4 runs + summary


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, make_benchmark):
    """The same benchmark as ``logged``, run with W&B off, then logged from its records."""
    tmp = tmp_path_factory.mktemp("bench-replay")
    make_benchmark(**W, folder=tmp)
    result = run_benchmark(tmp / "tiny-wandb.toml", profile="tiny", out=tmp / "results", wandb=False, quiet=True)
    assert all(rec.wandb is None for rec in result.records)
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    try:
        done = log_records(tmp / "tiny-wandb.toml", results=tmp / "results", project="genzoo-tests", quiet=True)
        again = log_records(tmp / "tiny-wandb.toml", results=tmp / "results", project="genzoo-tests", quiet=True)
    finally:
        mp.undo()
    found = find_runs(tmp / "results" / "tiny-wandb" / "wandb")
    assert Counter(r.name for r in found) == {"gan-s3": 1, "cgan-s3": 1, "tiny-wandb-summary": 1}   # none twice
    return done, again, {r.name: r for r in found}, tmp / "results" / "tiny-wandb"


def test_records_of_runs_without_wandb_are_logged_once(replayed):
    done, again, runs, bench_dir = replayed
    assert sorted(r.run_id for r in done) == ["cgan-s3", "gan-s3"]
    assert again == []                                      # each record now names its W&B run
    for rec in done:
        on_disk = read_record(bench_dir / "runs" / rec.run_id)
        assert on_disk.wandb["logged_from_record"] is True
        assert Path(on_disk.wandb["dir"]) == runs[rec.run_id].dir
        assert runs[rec.run_id].finished and runs[rec.run_id].exit_code == 0


def test_a_run_logged_from_its_record_matches_the_live_one(logged, replayed):
    """Config, loss curves (at the runner's rate) and final metrics as the runner logs them live;
    only the sample grids of mid-training steps cannot be rebuilt from a record."""
    _, live_runs, _ = logged
    done, _, runs, bench_dir = replayed
    for rec in done:
        live, late = live_runs[rec.run_id], runs[rec.run_id]
        assert late.job_type == live.job_type == rec.model and late.group == live.group
        assert late.config["logged_from_record"] is True        # the fixture's runs are not changed
        for key in ("benchmark", "profile", "model", "dataset", "seed", "preset", "overrides", "model_config",
                    "train", "settings", "device"):
            assert late.config[key] == live.config[key], key
        assert late.summary["total_steps"] == live.summary["total_steps"] == 12
        curve = {row["_step"]: row["train/loss_d"] for row in late.history if "train/loss_d" in row}
        live_curve = {row["_step"]: row["train/loss_d"] for row in live.history if "train/loss_d" in row}
        assert list(curve) == list(live_curve) == [1, 2, 4, 6, 8, 10, 12]
        assert list(curve.values()) == pytest.approx(list(live_curve.values()), rel=1e-5)
        history = gzip.decompress((bench_dir / "runs" / rec.run_id / "history.csv.gz").read_bytes()).decode()
        assert len(history.splitlines()) == 1 + 12            # read from the record's history, every step
        assert late.summary["samples"]["_type"] == "image-file"
        assert (late.dir / "files" / late.summary["samples"]["path"]).stat().st_size > 0
        for k, v in rec.metrics.items():
            assert late.summary[k] == pytest.approx(v) == pytest.approx(live.summary[k]), k
    table = runs["tiny-wandb-summary"].table("comparison")
    assert {row[0] for row in table["data"]} == {"gan-s3", "cgan-s3"}


def test_logging_records_needs_records(tmp_path, make_benchmark):
    toml = make_benchmark(**W)
    with pytest.raises(UserError, match="no finished run records"):
        log_records(toml, results=tmp_path / "nothing", quiet=True)


def test_curves_logged_from_a_record_at_the_runners_default_rate(tmp_path, monkeypatch, make_benchmark):
    """log_every = 0: the runner logs about 500 points of a long fit plus the image steps; a run
    logged from its record has the same steps. An offline run whose folder is gone is logged again."""
    toml = make_benchmark(**{**GAN_ONLY, "max_steps": 1100, "log_every": 0, "images": 3}, folder=tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.chdir(tmp_path)                           # relative results folders, as `genzoo bench` writes them
    live_rec = run_benchmark(toml, profile="tiny", out="live", quiet=True).records[0]
    run_benchmark(toml, profile="tiny", out="late", wandb=False, quiet=True)
    (rec,) = log_records(toml, results="late", quiet=True)
    assert not Path(rec.wandb["dir"]).is_absolute()
    live, late = read_run(live_rec.wandb["dir"]), read_run(rec.wandb["dir"])
    steps = [row["_step"] for row in late.history if "train/loss_d" in row]
    assert steps == [row["_step"] for row in live.history if "train/loss_d" in row]
    assert steps[:3] == [1, 2, 4] and {367, 733, 1100} <= set(steps) and 550 < len(steps) < 560

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")             # the record's relative folder is found under the results
    assert log_records(toml, results=tmp_path / "late", quiet=True) == []
    shutil.rmtree(tmp_path / rec.wandb["dir"])         # e.g. a fresh clone: wandb/ is not committed
    (again,) = log_records(toml, results=tmp_path / "late", quiet=True)
    assert again.wandb["dir"] != rec.wandb["dir"] and read_run(again.wandb["dir"]).finished


def _children() -> list[str]:
    """The command names of this process's child processes (Linux /proc)."""
    import os

    names = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:                  # the thread ended after the listing: it has no children
            continue
        for pid in children:
            try:
                names.append(Path(f"/proc/{pid}/comm").read_text().strip())
            except OSError:
                pass
    return names


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_bench_returns_with_every_wandb_run_on_disk(tmp_path, monkeypatch, make_benchmark):
    """The runner shuts wandb's service down before it returns (wandb.teardown), and the service
    writes every run's log in full before it exits: what a reader finds afterwards is complete,
    however slowly the service was writing. Nothing of wandb's is left running."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    toml = make_benchmark(**GAN_ONLY)
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "r", quiet=True)
    assert not [c for c in _children() if "wandb" in c]
    runs = {r.name: r for r in find_runs(tmp_path / "r" / "tiny-wandb" / "wandb")}
    assert set(runs) == {"gan-s3", "tiny-wandb-summary"} and all(r.finished for r in runs.values())
    assert runs["gan-s3"].summary["modes_covered"] == result.records[0].metrics["modes_covered"]


def test_packed_seeds_get_their_own_records_and_wandb_runs(tmp_path, monkeypatch, make_benchmark):
    """--pack on: the seeds of a model are trained together (genzoo.fit_seeds); each still has its
    own record (saying it was packed, and with whom), history and W&B run (logged live by its own
    callbacks, as a run trained alone: the losses and the mid-training sample grids), with the
    numbers of the runs trained one by one."""
    import pandas as pd

    monkeypatch.setenv("WANDB_MODE", "offline")
    toml = make_benchmark(**{**W, "seeds": [3, 5]})
    alone = run_benchmark(toml, profile="tiny", out=tmp_path / "a", wandb=False, quiet=True, pack="off")
    packed = run_benchmark(toml, profile="tiny", out=tmp_path / "b", wandb_project="genzoo-tests", quiet=True,
                           pack="on")
    assert [r.run_id for r in packed.records] == ["gan-s3", "gan-s5", "cgan-s3", "cgan-s5"]
    for a, b in zip(alone.records, packed.records):
        assert a.status == b.status == "ok" and "packed_with" not in a.train
        assert b.train["packed_with"] == [3, 5] and b.train["packed_train_time_s"] > b.train["train_time_s"]
        ha, hb = (pd.read_csv(tmp_path / d / "tiny-wandb" / "runs" / a.run_id / "history.csv.gz") for d in "ab")
        assert list(ha.columns) == list(hb.columns) and len(ha) == len(hb) == 12
        assert ((ha - hb).abs() <= 1e-3 * ha.abs().clip(lower=1e-2)).all().all(), a.run_id
        assert b.metrics["modes_covered"] == pytest.approx(a.metrics["modes_covered"], abs=1)
    runs = {r.name: r for r in find_runs(tmp_path / "b" / "tiny-wandb" / "wandb")}
    steps = [row["_step"] for row in runs["gan-s5"].history if "train/loss_d" in row]
    assert steps == [1, 2, 4, 6, 8, 10, 12]                          # log_every = 2, as a live run logs them
    assert [row["_step"] for row in runs["gan-s5"].history if "train/samples" in row] == [6, 12]   # images = 2
    with pytest.raises(UserError, match="pack must be"):
        run_benchmark(toml, profile="tiny", out=tmp_path / "c", pack="maybe")
