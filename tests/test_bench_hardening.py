"""The bench refuses bad input before any run starts, says where its data came from and what its
scores measured, cleans up after benches killed with -9 (scratch folders, Ray processes), and
estimates the time left from reference records, not from the clock. Real data (generated sets,
Fashion-MNIST idx files), real processes, a real local Ray instance; nothing depends on timing
(waits poll with a generous deadline)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import genzoo
from genzoo._io import scratch_dir, sweep_stale_scratch
from genzoo.bench import load_benchmark, read_record, run_benchmark
from genzoo.bench.record import RunRecord
from genzoo.bench.times import Progress, RunTimes
from genzoo.data import fashion
from genzoo.errors import UserError

# the tiny point benchmark (conftest's make_benchmark); its variants are keywords of make_benchmark
POINTS = dict(name="hard-pts", dataset="ring", models=["gan", "wgan", "ae"], max_steps=6)
ENDLESS_WGAN = {"wgan": {"max_steps": 100_000_000}}          # a run that is still going when it is killed

DEADLINE_S = 300.0       # the longest a test waits for a process to do something (never expected)


def _bench_cmd(toml: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "genzoo", "bench", str(toml), "--profile", "tiny", "--out", str(out),
            "--no-wandb", "--device", "cpu", *extra]


def _records(out: Path) -> list[Path]:
    return sorted(out.rglob("record.json"))


def _wait_for(what, check, deadline_s: float = DEADLINE_S):
    t0 = time.monotonic()
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() - t0 < deadline_s, f"waited {deadline_s:.0f}s for {what}"
        time.sleep(0.1)


# ------------------------------------------------------------------ 1. input errors, before any run

@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("settings, why", [
    ({"dataset_options": {"n": 0}}, "cannot load dataset 'ring' (train) with {'n': 0}: n must be at least 2 items"),
    ({"dataset_options": {"n": 1}}, "n must be at least 2 items"),
    ({"batch_size": 5000}, "batch_size"),                           # more than the 1,000 items (check_data)
])
def test_bad_data_options_are_one_line_before_any_run(tmp_path, engine, settings, why, make_benchmark):
    """n = 0 was a failed record (rc 0), a batch larger than the data too: now a one-line error
    naming the file, profile and model, before any training or Ray start, and nothing recorded."""
    import ray

    toml = make_benchmark(**{**POINTS, **settings})
    out = tmp_path / "out"
    with pytest.raises(UserError) as err:
        run_benchmark(toml, profile="tiny", out=out, wandb=False, quiet=True, engine=engine, device="cpu")
    msg = str(err.value)
    assert msg.startswith(f"{toml} (profile 'tiny', model 'gan'): ") and why in msg and "\n" not in msg, msg
    assert _records(out) == [] and not ray.is_initialized()


def test_bad_data_options_on_the_command_line_exit_2_in_one_line(tmp_path, make_benchmark):
    toml = make_benchmark(**POINTS, dataset_options={"n": 0})
    proc = subprocess.run(_bench_cmd(toml, tmp_path / "out", "--quiet"), capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"genzoo bench: error: {toml} (profile 'tiny', model 'gan'):")
    assert _records(tmp_path / "out") == []


def test_a_named_data_folder_without_the_data_is_one_line_and_records_nothing(tmp_path, monkeypatch, make_benchmark):
    """GENZOO_DATA naming an empty folder no longer falls back to Debian's copy."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GENZOO_DATA", str(empty))
    toml = make_benchmark("hard-fm", "fashion-mnist", ["gan"], n_samples=100)
    with pytest.raises(UserError) as err:
        run_benchmark(toml, profile="tiny", out=tmp_path / "out", wandb=False, quiet=True, device="cpu")
    msg = str(err.value)
    assert f"GENZOO_DATA={empty}: no Fashion-MNIST train files there" in msg and "\n" not in msg, msg
    assert _records(tmp_path / "out") == []


# ------------------------------------------------------------- 2-3. where the data came from, what was measured

def test_records_say_where_the_data_came_from_and_what_was_scored(tmp_path, monkeypatch, make_benchmark):
    folder = tmp_path / "fm"
    shutil.copytree(fashion.DEBIAN_DIR, folder)
    monkeypatch.setenv("GENZOO_DATA", str(folder))
    toml = make_benchmark("hard-fm", "fashion-mnist", ["gan"], n_samples=100)
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "out", wandb=False, quiet=True, device="cpu")
    rec = result.records[0]
    assert rec.status == "ok", rec.reason
    files = {split: [str(folder / f"{p}-{k}-ubyte.gz") for k in ("images-idx3", "labels-idx1")]
             for split, p in (("train", "train"), ("test", "t10k"))}
    assert rec.data == {"train": {"how": "GENZOO_DATA", "folder": str(folder), "files": files["train"]},
                        "reference": {"how": "GENZOO_DATA", "folder": str(folder), "files": files["test"]}}
    on_disk = json.loads((tmp_path / "out" / "hard-fm" / "runs" / "gan-s0" / "record.json").read_text())
    assert on_disk["data"] == rec.data and on_disk["scoring"] == rec.scoring
    # the scoring entry is what score() reports it measured, for the same samples and reference
    ref = genzoo.data.load("fashion-mnist", "test").subset(256, seed=0)
    model = genzoo.load(tmp_path / "out" / "hard-fm" / "runs" / "gan-s0" / "checkpoint")
    scores = genzoo.metrics.score(model.sample(100, seed=rec.train["sample_seed"]), ref,
                                  rec.plan["settings"]["metrics"] or None, n=100, seed=0, device="cpu",
                                  progress=False)
    measured = getattr(scores, "measured", None)
    assert rec.scoring == (json.loads(json.dumps(measured)) if measured else None)
    assert rec.train["reference_items"] == 256 and rec.train["reference_subset"] == 256
    if measured:
        assert rec.scoring["reference_items"] <= rec.train["reference_items"]


def test_generated_data_is_recorded_with_its_loader_and_old_records_load(tmp_path, make_benchmark):
    toml = make_benchmark(**POINTS)
    result = run_benchmark(toml, profile="tiny", models=["gan"], out=tmp_path / "out", wandb=False, quiet=True,
                           device="cpu")
    rec = result.records[0]
    assert rec.data["train"] == {"how": "generated", "by": "genzoo.data.toy.load_mixture", "n": 1000, "seed": 0}
    old = RunRecord.from_dict({k: v for k, v in rec.to_dict().items() if k not in ("data", "scoring")})
    assert old.data is None and old.scoring is None


# --------------------------------------------------------------------------- 4. scratch folders

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_scratch_folders_of_dead_processes_are_removed_and_only_those(tmp_path, monkeypatch, make_benchmark):
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    mine = scratch_dir("gan-s0")
    assert mine.parent == tmp and mine.name.startswith(f"genzoo-gan-s0-pid{os.getpid()}-")
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        dead = tmp / f"genzoo-wgan-s1-pid{_dead_pid()}-abcd_123"
        live = tmp / f"genzoo-gan-t003-s2-pid{sleeper.pid}-x1y2z3w4"
        other = [tmp / "genzoo-gan-s0-abcdefgh", tmp / "notgenzoo-pid1-abcdefgh", tmp / "pid-file"]
        for d in (dead, live, *other[:2]):
            (d / "sub").mkdir(parents=True)
        other[2].write_text("x")
        toml = make_benchmark(**POINTS)              # the next run cleans up, whatever it does
        run_benchmark(toml, profile="tiny", models=["ae"], out=tmp_path / "out", wandb=False, quiet=True,
                      device="cpu")
        assert not dead.exists()
        assert live.exists() and mine.exists() and all(p.exists() for p in other)
        assert sweep_stale_scratch(tmp) == []
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sweep_stale_scratch(tmp) == [live]


def test_a_bench_killed_with_9_leaves_its_scratch_folder_until_the_next_run(tmp_path, monkeypatch, make_benchmark):
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    toml = make_benchmark(**POINTS, model_settings=ENDLESS_WGAN)
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_bench_cmd(toml, tmp_path / "out", "--models", "wgan"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        folders = _wait_for("the run's scratch folder", lambda: list(tmp.glob(f"genzoo-wgan-s0-pid{proc.pid}-*")))
    finally:
        proc.kill()
        proc.wait()
    assert all(f.exists() for f in folders)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    run_benchmark(toml, profile="tiny", models=["ae"], out=tmp_path / "out", wandb=False, quiet=True, device="cpu")
    assert not any(f.exists() for f in folders) and read_record(tmp_path / "out" / "hard-pts" / "runs" / "wgan-s0") is None


# ------------------------------------------------------------------------------ 5. Ray leftovers

FAKE_AGENT = """
import sys, time
f = open(sys.argv[1], "a")          # a file open in the session folder, as Ray's processes hold their logs
print("up", flush=True)
while True:
    time.sleep(1)
"""


def _fake_session(tmp_path: Path, name: str, ray_like: bool) -> tuple[Path, subprocess.Popen]:
    session = tmp_path / name
    (session / "logs").mkdir(parents=True, exist_ok=True)
    script = tmp_path / ("ray" if ray_like else "other") / "agent.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(FAKE_AGENT)
    proc = subprocess.Popen([sys.executable, str(script), str(session / "logs" / "agent.log")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    return session, proc


def _instance_file(folder: Path, driver_pid: int, session: Path) -> Path:
    from genzoo.bench.ray_instances import proc_stat

    stat = proc_stat(driver_pid)
    path = folder / f"driver-{driver_pid}.json"
    path.write_text(json.dumps({"driver_pid": driver_pid, "driver_start": stat[1] if stat else None,
                                "session_dir": str(session)}))
    return path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_only_the_ray_processes_of_dead_drivers_are_stopped(tmp_path):
    from genzoo.bench.ray_instances import clean_dead_instances

    state = tmp_path / "state"
    state.mkdir()
    driver = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    procs = []
    try:
        live_session, live_agent = _fake_session(tmp_path, "session_live", ray_like=True)
        dead_session, dead_agent = _fake_session(tmp_path, "session_dead", ray_like=True)
        _, bystander = _fake_session(tmp_path, "session_dead", ray_like=False)     # e.g. `tail -f` of a log
        procs = [live_agent, dead_agent, bystander]
        live_file = _instance_file(state, driver.pid, live_session)
        dead_file = _instance_file(state, _dead_pid(), dead_session)
        lines = clean_dead_instances(state)
        assert dead_agent.wait(timeout=DEADLINE_S) is not None
        assert live_agent.poll() is None and bystander.poll() is None and driver.poll() is None
        assert len(lines) == 1 and "\n" not in lines[0] and "stopped 1 of 1 processes" in lines[0], lines
        assert str(dead_session) in lines[0] and live_file.exists() and not dead_file.exists()
        assert clean_dead_instances(state) == []
    finally:
        for p in (*procs, driver):
            p.kill()
            p.wait()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_ray_driver_killed_with_9_leaves_no_ray_process_after_the_next_run(tmp_path, make_benchmark):
    """A real local Ray instance (``--address local``) under a bench killed with SIGKILL while a
    run is going: the next run stops every process of that instance, and says so."""
    from genzoo.bench.ray_instances import INSTANCES_DIR, session_processes

    state = fashion.cache_root() / INSTANCES_DIR
    before = set(state.glob("driver-*.json"))
    toml = make_benchmark(**POINTS, model_settings=ENDLESS_WGAN)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    errors = open(tmp_path / "stderr", "w")
    proc = subprocess.Popen(_bench_cmd(toml, tmp_path / "out", "--models", "gan,wgan", "--engine", "ray",
                                       "--address", "local"),
                            stdout=subprocess.PIPE, stderr=errors, text=True, env=env, start_new_session=True)
    try:
        for line in proc.stdout:                  # gan-s0 is recorded; wgan-s0 runs for ever
            if "gan-s0: ok" in line:
                break
        mine = state / f"driver-{proc.pid}.json"
        assert mine.exists() and mine not in before
        session = json.loads(mine.read_text())["session_dir"]
        assert session_processes(session)            # the instance's processes, the task's worker among them
    finally:
        proc.kill()                                  # kill -9 of the driver alone
        proc.wait()
        errors.close()
    result = subprocess.run(_bench_cmd(toml, tmp_path / "out", "--models", "gan"), capture_output=True, text=True,
                            env=env, timeout=DEADLINE_S)
    assert result.returncode == 0, result.stdout + result.stderr
    said = [ln for ln in result.stdout.splitlines() if "local Ray instance of a killed genzoo bench" in ln]
    assert len(said) == 1 and f"driver pid {proc.pid}" in said[0] and session in said[0], result.stdout
    assert session_processes(session) == {} and not mine.exists()


# ------------------------------------------------------------------------------- 6. time estimates

def _rec(model: str, wall: float, status: str = "ok", device: str = "cpu", profile: str = "tiny") -> RunRecord:
    return RunRecord(model=model, profile=profile, status=status, wall_time_s=wall, device=device,
                     run_id=f"{model}-x")


def test_time_estimates_come_from_reference_records_not_the_clock(make_benchmark):
    bench = load_benchmark(make_benchmark(**POINTS, seeds=[0, 1, 2, 3]))
    specs = bench.plan("tiny")                       # 4 x gan, wgan, ae
    reference = [_rec("gan", 90), _rec("gan", 100), _rec("gan", 500), _rec("wgan", 300), _rec("ae", 0.5, "skipped"),
                 _rec("gan", 1, "failed"), _rec("wgan", 5, device="cuda"), _rec("wgan", 7, profile="quick")]
    times = RunTimes.from_records(reference, "cpu", source="results/hard-pts")
    assert times.medians == {("gan", "tiny"): 100, ("wgan", "tiny"): 300, ("ae", "tiny"): 0.5, ("wgan", "quick"): 7}
    run_time = 4 * 100 + 4 * 300 + 4 * 0.5
    assert times.wall_s(specs, 1) == run_time and times.wall_s(specs, 2) == run_time / 2
    assert times.wall_s(specs, 100) == 300                    # never less than the longest run
    line = times.plan_line(specs, 2)
    assert line.startswith("about 13m21s of wall time with 2 runs at once") and "results/hard-pts" in line
    assert "26m42s of run time" in line

    # the time left: the runs not settled, at the pace the finished ones went (twice as slow)
    progress = Progress(specs, times, workers=2)
    gan0, wgan0 = specs[0], next(s for s in specs if s.model == "wgan")
    line = progress.line(gan0.run_id, "gan-s0: ok", _rec("gan", 200).replace(run_id=gan0.run_id))
    assert line == f"[1/12] gan-s0: ok; about {_fmt(2 * (run_time - 100) / 2)} to go"
    line = progress.line(wgan0.run_id, "wgan-s0: ok", _rec("wgan", 600).replace(run_id=wgan0.run_id))
    assert line == f"[2/12] wgan-s0: ok; about {_fmt(2 * (run_time - 400) / 2)} to go"
    again = Progress(specs, times, workers=2)          # the same runs settled: the same estimate
    again.line(gan0.run_id, "", _rec("gan", 200))
    assert again.line(wgan0.run_id, "x", _rec("wgan", 600)).endswith(line.rsplit(";", 1)[1])
    assert progress.line(specs[1].run_id, "taken from another process").startswith("[3/12]")
    for spec in specs:
        last = progress.line(spec.run_id, "done")
    assert last == "[12/12] done"                       # nothing left: no estimate


def test_time_estimates_scale_training_to_the_planned_budget(make_benchmark):
    """A profile whose budget changed since its reference records were made: their training time
    is scaled to the planned budget (the rest of their wall time kept), when every record of the
    model has one budget of the same kind as the plan's; otherwise the median wall time as before."""
    bench = load_benchmark(make_benchmark(**POINTS))
    specs = {s.model: s for s in bench.plan("tiny")}          # max_steps 6 each

    def rec(model, wall, train, **config):
        return RunRecord(model=model, profile="tiny", status="ok", wall_time_s=wall, device="cpu",
                         run_id=f"{model}-x", config={"epochs": 1.0, "max_steps": None, **config},
                         train={"train_time_s": train})
    reference = [rec("gan", 100, 80, max_steps=12), rec("gan", 110, 90, max_steps=12),   # 3x budget of the plan's half
                 rec("wgan", 50, 40, max_steps=12), rec("wgan", 70, 60, max_steps=24),   # two budgets: not scaled
                 rec("ae", 30, 20, epochs=2.0)]                                           # epochs, the plan steps
    times = RunTimes.from_records(reference, "cpu", source="results/hard-pts")
    assert times.of(specs["gan"]) == pytest.approx(85 * 6 / 12 + 20)
    assert times.of(specs["wgan"]) == 60 and times.of(specs["ae"]) == 30
    line = times.plan_line(list(specs.values()), 1)
    assert "the training time of gan scaled from the records' budget to the planned one" in line
    assert line.startswith(f"about {_fmt(62.5 + 60 + 30)} of wall time")
    # a finished run is judged against the reference at its own budget: twice as slow here
    assert times.pace([rec("gan", 125, 100, max_steps=6)]) == pytest.approx(125 / 62.5)
    same = RunTimes.from_records([rec("gan", 100, 80, max_steps=6)], "cpu")
    assert same.of(specs["gan"]) == 100 and "scaled" not in same.plan_line([specs["gan"]], 1)
    odd = RunTimes.from_records([rec("gan", 100, 80, max_steps="many"), rec("wgan", 50, 40, epochs=[1])], "cpu")
    assert odd.of(specs["gan"]) == 100 and odd.of(specs["wgan"]) == 50    # a budget it cannot read: unscaled


def test_without_reference_records_the_finished_runs_judge(make_benchmark):
    bench = load_benchmark(make_benchmark(**POINTS))
    specs = bench.plan("tiny")
    times = RunTimes.from_records([], "cpu")
    assert times.wall_s(specs, 1) is None and times.plan_line(specs, 1) == ""
    progress = Progress(specs, times)
    assert progress.line(specs[0].run_id, "a", _rec("gan", 40)) == f"[1/3] a; about {_fmt(80)} to go"
    none_done = Progress(specs, times)
    assert none_done.line(specs[0].run_id, "b") == "[1/3] b"


def _fmt(s: float) -> str:
    from genzoo.bench.times import fmt_s

    return fmt_s(s)
