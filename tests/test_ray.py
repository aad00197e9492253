"""``genzoo bench --engine ray`` on a real Ray cluster of several nodes on this machine
(``ray.cluster_utils.Cluster``: a head that runs nothing and worker nodes of one CPU each): the same
records as the local engine (packed seeds too), a run that raises, a failure of the machine, a node
lost mid-run, a resumed benchmark, W&B logged by the driver, runs no node has room for; and Ctrl-C
on the command line with a local instance. Nothing here depends on timing: a task that must be
running when its node is removed waits, in the worker, until the node is gone.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
import ray            # the test extra installs it: these tests run in CI, never skipped
import torch
from ray.cluster_utils import Cluster

from genzoo.bench import SCHEMA_VERSION, read_record, run_benchmark
from genzoo.bench.ray_engine import RayOptions
from genzoo.report.build import build_report
from genzoo.report.records import load_benchmark as load_results

pytestmark = pytest.mark.slow

# the tiny ring benchmark (conftest's make_benchmark): cgan's scoring raises (an image metric on
# 2-D points), so its runs are recorded failed; its variants are keywords of make_benchmark
RING = dict(name="ray-ring", dataset="ring", models=["gan", "wgan", "cgan"], seeds=[0, 1], n_samples=300, max_steps=12,
            images=1, model_settings={"cgan": {"metrics": ["sharpness"]}})

TIMING = ("train_time_s", "logging_time_s", "packed_train_time_s")     # record.train keys that are times
NODE_CPUS = 1


def test_ctrl_c_cancels_the_tasks_left_and_keeps_the_records(tmp_path, make_benchmark):
    """The command line on a local Ray instance of its own (``--address local``: never another
    cluster of this machine). Ctrl-C once a run is recorded, while another cannot end (20 million
    steps): the command stops at once, the record stays, the endless run has none."""
    import os
    import signal
    import subprocess
    import sys

    endless = {"wgan": {"max_steps": 20_000_000}, **RING["model_settings"]}
    toml = make_benchmark(**{**RING, "model_settings": endless})
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    errors = open(tmp_path / "stderr", "w+")           # a file: Ray's warnings never fill a pipe nobody reads
    # the command as a terminal starts it: a test run started in the background (`cmd &` in a
    # script) has SIGINT ignored, which its children inherit, and an ignored Ctrl-C stops nothing
    proc = subprocess.Popen([sys.executable, "-m", "genzoo", "bench", str(toml), "--profile", "tiny", "--out", str(out),
                             "--models", "gan,wgan", "--seeds", "0", "--engine", "ray", "--address", "local", "--no-wandb",
                             "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=errors, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in proc.stdout:                        # gan-s0 is recorded; wgan-s0 runs for ever
        seen.append(line)
        if "gan-s0: ok" in line:
            break
    assert any(line.startswith("Ray at ") for line in seen), seen
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    errors.seek(0)
    err = errors.read()
    errors.close()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    runs = out / "ray-ring" / "runs"
    assert read_record(runs / "gan-s0").status == "ok" and read_record(runs / "wgan-s0") is None
    assert not (runs / "wgan-s0").exists() and not [p for p in out.rglob("*.tmp")]


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": 80 * 2**20})
    for _ in range(2):
        c.add_node(num_cpus=NODE_CPUS, object_store_memory=80 * 2**20)
    c.wait_for_nodes()
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def toml(make_benchmark) -> Path:
    return make_benchmark(**RING)


@pytest.fixture(scope="module")
def local(toml, tmp_path_factory):
    """The benchmark with the local engine, with one torch thread as each Ray task has."""
    out = tmp_path_factory.mktemp("local")
    threads = torch.get_num_threads()
    torch.set_num_threads(NODE_CPUS)
    try:
        result = run_benchmark(toml, profile="tiny", out=out, device="cpu", wandb=False, quiet=True)
    finally:
        torch.set_num_threads(threads)
    return out, result


def _starts_hook(folder: Path, fail: str | None = None, machine: bool = False):
    """A task hook (run in the workers) that counts each run's starts in ``folder`` and makes the
    task of run ``fail`` raise: a bug, or (``machine``) a failure of the machine."""
    folder = str(folder)

    def hook(run_ids):
        import os

        from genzoo.errors import EnvironmentFailure

        for run_id in run_ids:
            with open(os.path.join(folder, f"{run_id}.starts"), "a") as f:
                f.write("start\n")
        if fail in run_ids:
            raise EnvironmentFailure("writing the run's files failed: the disk is full") if machine else \
                ValueError(f"a bug in the task of {fail}")

    return hook


def _starts(folder: Path) -> dict[str, int]:
    return {p.name[:-len(".starts")]: len(p.read_text().splitlines()) for p in folder.glob("*.starts")}


def _same_results(a: dict, b: dict) -> None:
    """Two records of one run: the same numbers, bit for bit; only times and the engine differ."""
    for key in ("status", "reason", "metrics", "higher_is_better", "per_class", "config", "plan", "torch_threads",
                "seed", "model", "dataset", "profile", "git_commit"):
        assert getattr(a, key) == getattr(b, key), key
    assert {k: v for k, v in a.train.items() if k not in TIMING} == \
        {k: v for k, v in b.train.items() if k not in TIMING}


@pytest.fixture(scope="module")
def on_ray(cluster, toml, tmp_path_factory):
    """The benchmark on the cluster, run once; wgan-s1's task raises. A test that writes into its
    results folder (a report, another run) works on a copy (:func:`_own_copy`), whatever the order."""
    out = tmp_path_factory.mktemp("ray")
    starts = tmp_path_factory.mktemp("starts")
    options = RayOptions(address=cluster.address, cpus_per_run=NODE_CPUS, task_hook=_starts_hook(starts, "wgan-s1"))
    result = run_benchmark(toml, profile="tiny", out=out, device="cpu", engine="ray", ray=options, quiet=True)
    return out, result, starts


def _own_copy(out: Path, tmp_path: Path) -> Path:
    """The results folder ``out`` copied into ``tmp_path`` (files, times and links as they are)."""
    shutil.copytree(out, tmp_path / "results", symlinks=True)
    return tmp_path / "results"


def test_ray_gives_the_records_of_the_local_engine(local, on_ray):
    local_out, local_result = local
    out, result, _ = on_ray
    runs = out / "ray-ring" / "runs"
    assert [r.run_id for r in result.records] == [r.run_id for r in local_result.records]
    for mine, theirs in zip(result.records, local_result.records):
        if mine.run_id == "wgan-s1":
            continue                                 # its task raised (next test)
        assert mine.engine == "ray" and theirs.engine == "local"
        _same_results(mine, theirs)
        on_disk = json.loads((runs / mine.run_id / "record.json").read_text())
        assert on_disk == mine.to_dict() and on_disk["schema"] == SCHEMA_VERSION
        for name in ("history.csv.gz", "samples.pt"):   # the files, byte for byte
            if mine.status == "ok":
                assert (runs / mine.run_id / name).read_bytes() == \
                    (local_out / "ray-ring" / "runs" / mine.run_id / name).read_bytes(), (mine.run_id, name)
    statuses = {r.run_id: r.status for r in result.records}
    assert statuses == {"gan-s0": "ok", "gan-s1": "ok", "wgan-s0": "ok", "wgan-s1": "failed",
                        "cgan-s0": "failed", "cgan-s1": "failed"}
    assert not [p for p in out.rglob("*.tmp")]


def test_records_of_both_engines_read_the_same_in_the_report(local, on_ray, tmp_path):
    local_out, _ = local
    out = _own_copy(on_ray[0], tmp_path)                  # the report is written into it
    mine, theirs = load_results("ray-ring", out), load_results("ray-ring", local_out)
    assert [r.run_id for r in mine.runs] == [r.run_id for r in theirs.runs]
    for a, b in zip(mine.runs, theirs.runs):
        if a.run_id != "wgan-s1":
            assert (a.model, a.seed, a.status, a.metrics, a.reason) == (b.model, b.seed, b.status, b.metrics, b.reason)
    report = build_report("ray-ring", out, figures=False)
    assert not report.incomplete and (out / "ray-ring" / "summary.md").is_file()


def test_a_run_that_raises_is_recorded_failed_not_retried_and_the_others_finish(on_ray):
    out, result, starts = on_ray
    rec = {r.run_id: r for r in result.records}
    # a failure inside the run (its scoring raised): recorded by the run itself
    assert rec["cgan-s0"].status == "failed" and "scoring failed" in rec["cgan-s0"].reason
    # an error raised by the task: recorded by the driver, with the worker's traceback, never retried
    failed = rec["wgan-s1"]
    assert failed.status == "failed" and "ValueError: a bug in the task of wgan-s1" in failed.reason
    assert "Traceback" in (out / "ray-ring" / "runs" / "wgan-s1" / "error.txt").read_text()
    assert read_record(out / "ray-ring" / "runs" / "wgan-s1") == failed
    assert _starts(starts) == {r: 1 for r in rec}
    assert rec["wgan-s0"].status == "ok" and rec["gan-s1"].status == "ok"


def test_the_driver_logs_each_run_to_wandb_from_its_record(on_ray):
    out, result, _ = on_ray
    for r in result.records:
        if r.status == "skipped":
            continue
        assert r.wandb and r.wandb["logged_from_record"] and r.wandb["mode"] == "offline", r.run_id
        assert (out / "ray-ring" / "wandb" / Path(r.wandb["dir"]).name).is_dir()
    # one W&B run per run, and the models' comparison
    assert len(list((out / "ray-ring" / "wandb").glob("offline-run-*"))) == len(result.records) + 1


def test_a_second_invocation_resumes_without_training(cluster, toml, on_ray, tmp_path):
    out = _own_copy(on_ray[0], tmp_path)                  # the benchmark is run there again
    before = {p.parent.name: p.stat().st_mtime_ns for p in (out / "ray-ring" / "runs").glob("*/record.json")}
    starts = tmp_path / "starts"
    starts.mkdir()
    options = RayOptions(address=cluster.address, task_hook=_starts_hook(starts))
    result = run_benchmark(toml, profile="tiny", out=out, device="cpu", engine="ray", ray=options, quiet=True)
    assert result.executed == [] and len(result.resumed) == 6
    assert _starts(starts) == {}                                             # no task ran
    assert {p.parent.name: p.stat().st_mtime_ns for p in (out / "ray-ring" / "runs").glob("*/record.json")} == before


def _hold_hook(folder: Path, hold: str):
    """A task hook: the first start of run ``hold`` writes the id of its node to ``hold.node`` and
    waits until that node is removed (its worker dies with it); a later start goes on."""
    folder = str(folder)

    def hook(run_ids):
        import os
        import time

        import ray

        with open(os.path.join(folder, "starts"), "a") as f:
            f.write(" ".join(run_ids) + "\n")
        if hold not in run_ids:
            return
        marker = os.path.join(folder, f"{hold}.node")
        if os.path.exists(marker):
            return                                  # the retry, on another node
        tmp = marker + ".part"
        with open(tmp, "w") as f:
            f.write(ray.get_runtime_context().get_node_id())
        os.replace(tmp, marker)
        for _ in range(6000):                       # the test removes this node: this process dies
            time.sleep(0.1)
        raise RuntimeError("the node of this task was not removed")

    return hook


def test_a_sweep_on_ray_gives_the_trials_of_the_local_engine(cluster, tmp_path, make_benchmark):
    """genzoo sweep on both engines: the same trials, re-runs and numbers."""
    from genzoo.sweep.run import run_sweep

    toml = make_benchmark(**{**RING, "name": "ray-sweep"},
                          sweeps={"tiny": {"models": ["gan"], "trials": 3, "rerun_seeds": 2}})
    threads = torch.get_num_threads()
    torch.set_num_threads(NODE_CPUS)
    try:
        local_report = run_sweep(toml, sweep="tiny", out=tmp_path / "local", device="cpu", wandb=False, quiet=True)
    finally:
        torch.set_num_threads(threads)
    ray_report = run_sweep(toml, sweep="tiny", out=tmp_path / "ray", device="cpu", wandb=False, quiet=True,
                           engine="ray", ray=RayOptions(address=cluster.address, cpus_per_run=NODE_CPUS))
    local_runs = {p.parent.name: read_record(p.parent) for p in (local_report.parent / "runs").glob("*/record.json")}
    ray_runs = {p.parent.name: read_record(p.parent) for p in (ray_report.parent / "runs").glob("*/record.json")}
    assert sorted(ray_runs) == sorted(local_runs) and len(ray_runs) == 4        # 3 trials + the best re-run
    for run_id, rec in ray_runs.items():
        assert rec.engine == "ray" and rec.sweep == local_runs[run_id].sweep
        _same_results(rec, local_runs[run_id])
    assert ray_report.read_text().split("## Figures")[0] == local_report.read_text().split("## Figures")[0]


def test_a_node_removed_mid_run_has_its_runs_retried_on_the_others(cluster, toml, local, tmp_path):
    cluster.add_node(num_cpus=NODE_CPUS, object_store_memory=80 * 2**20)   # two nodes stay after the removal
    cluster.wait_for_nodes()
    signals = tmp_path / "signals"
    signals.mkdir()
    marker = signals / "gan-s1.node"
    removed = []

    def remove_the_node_of_gan_s1():
        while not marker.exists():                  # gan-s1's task has started, and waits
            threading.Event().wait(0.05)
        node_id = marker.read_text()
        node = next(n for n in cluster.worker_nodes if n.node_id == node_id)
        cluster.remove_node(node, allow_graceful=False)
        removed.append(node_id)

    remover = threading.Thread(target=remove_the_node_of_gan_s1, daemon=True)
    remover.start()
    out = tmp_path / "out"
    options = RayOptions(address=cluster.address, cpus_per_run=NODE_CPUS, task_hook=_hold_hook(signals, "gan-s1"))
    result = run_benchmark(toml, profile="tiny", out=out, device="cpu", engine="ray", ray=options, quiet=True,
                           wandb=False, models=["gan", "wgan"])
    remover.join(timeout=60)
    assert removed and removed[0] not in {n.node_id for n in cluster.worker_nodes}
    starts = (signals / "starts").read_text().split()
    assert starts.count("gan-s1") == 2                                 # started again after its node died
    assert sorted(result.executed) == ["gan-s0", "gan-s1", "wgan-s0", "wgan-s1"]
    _, local_result = local
    theirs = {r.run_id: r for r in local_result.records}
    for rec in result.records:                                         # nothing lost, the same numbers
        assert rec.status == "ok" and read_record(out / "ray-ring" / "runs" / rec.run_id) == rec
        _same_results(rec, theirs[rec.run_id])


def test_packed_seeds_are_one_task_with_the_records_of_the_local_engine(cluster, toml, tmp_path):
    """--pack on: the seeds of a model are trained together (genzoo.fit_seeds) in one task, and
    each gets the record the local engine gives it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(NODE_CPUS)
    try:
        theirs = run_benchmark(toml, profile="tiny", out=tmp_path / "local", device="cpu", wandb=False, quiet=True,
                               models=["gan"], pack="on")
    finally:
        torch.set_num_threads(threads)
    starts = tmp_path / "starts"
    starts.mkdir()
    options = RayOptions(address=cluster.address, cpus_per_run=NODE_CPUS, task_hook=_starts_hook(starts))
    mine = run_benchmark(toml, profile="tiny", out=tmp_path / "ray", device="cpu", engine="ray", ray=options,
                         wandb=False, quiet=True, models=["gan"], pack="on")
    assert _starts(starts) == {"gan-s0": 1, "gan-s1": 1}
    for a, b in zip(mine.records, theirs.records):
        assert a.train["packed_with"] == [0, 1] and a.engine == "ray"
        _same_results(a, b)


def test_runs_that_no_node_has_room_for_are_refused_in_one_line(cluster, toml, tmp_path):
    from genzoo.errors import UserError

    for options, why in ((RayOptions(address=cluster.address, gpus_per_run=0.5), "--device cpu"),
                         (RayOptions(address=cluster.address, cpus_per_run=NODE_CPUS + 1), "--cpus-per-run")):
        with pytest.raises(UserError, match="no node of the Ray cluster has") as err:
            run_benchmark(toml, profile="tiny", out=tmp_path, device="cpu", engine="ray", ray=options, quiet=True,
                          wandb=False, models=["gan"])
        assert why in str(err.value) and "\n" not in str(err.value)
        assert not list(tmp_path.glob("*/runs/*/record.json"))


def test_a_failure_of_the_machine_records_nothing_and_the_others_finish(cluster, toml, tmp_path):
    """As with the local engine, a failure of the environment is not the run's result: no record,
    a one-line error once the other runs are recorded, and the same command then does that run."""
    from genzoo.errors import UserError

    out, starts = tmp_path / "out", tmp_path / "starts"
    starts.mkdir()
    options = RayOptions(address=cluster.address, task_hook=_starts_hook(starts, "gan-s1", machine=True))
    with pytest.raises(UserError) as err:
        run_benchmark(toml, profile="tiny", out=out, device="cpu", engine="ray", ray=options, wandb=False, quiet=True,
                      models=["gan", "wgan"])
    msg = str(err.value)
    assert "gan-s1: writing the run's files failed: the disk is full" in msg and "Nothing was recorded" in msg
    assert "\n" not in msg
    runs = out / "ray-ring" / "runs"
    assert read_record(runs / "gan-s1") is None and "Traceback" in (runs / "gan-s1" / "error.txt").read_text()
    assert all(read_record(runs / r).status == "ok" for r in ("gan-s0", "wgan-s0", "wgan-s1"))
    assert _starts(starts) == {"gan-s0": 1, "gan-s1": 1, "wgan-s0": 1, "wgan-s1": 1}     # not retried
    again = run_benchmark(toml, profile="tiny", out=out, device="cpu", engine="ray", wandb=False, quiet=True,
                          models=["gan", "wgan"], ray=RayOptions(address=cluster.address))
    assert again.executed == ["gan-s1"] and read_record(runs / "gan-s1").status == "ok"
