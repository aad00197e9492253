"""The runner under the conditions a user meets and a hostile tester makes: two benches on one
folder, data that breaks, a results folder that cannot be written, bad arguments, killed writers.
Real processes, real data files, real (tiny) models; nothing here depends on timing."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import benchmark_toml

from genzoo._io import sweep_stale_tmp, write_text
from genzoo.bench import read_record, run_benchmark
from genzoo._args import list_arg
from genzoo.bench.locks import RunLock
from genzoo.data import fashion
from genzoo.errors import UserError
from genzoo.report.build import build_report

# the tiny point benchmark (conftest's make_benchmark); its variants are keywords of make_benchmark
POINTS = dict(name="tiny-pts", dataset="ring", models=["gan", "wgan"], seeds=[0, 1], max_steps=8)


def _toml(tmp: Path, text: str, name: str = "b") -> Path:
    """``text`` written to ``<tmp>/<name>.toml``: for a benchmark whose own name is no file name."""
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def _bench_cmd(toml: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "genzoo", "bench", str(toml), "--profile", "tiny", "--out", str(out),
            "--no-wandb", "--device", "cpu", *extra]


# ------------------------------------------------------------------ two benches on one folder

def test_two_benches_on_one_folder_share_the_runs_and_report_them_all(tmp_path, make_benchmark):
    """Started together: every run is done once in all, each process ends with every record."""
    toml = make_benchmark(**POINTS)
    out = tmp_path / "results"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(_bench_cmd(toml, out), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    done_here = []
    for text in outputs:
        line = next(ln for ln in text.splitlines() if "run now" in ln)      # "... 4 runs, N run now, ..."
        done_here.append(int(line.split(" run now")[0].rsplit(",", 1)[1]))
        for run_id in ("gan-s0", "gan-s1", "wgan-s0", "wgan-s1"):     # each process reports every run
            assert f"\n{run_id} " in text, text
    assert sum(done_here) == 4, outputs
    records = [read_record(out / "tiny-pts" / "runs" / r) for r in ("gan-s0", "gan-s1", "wgan-s0", "wgan-s1")]
    assert all(r is not None and r.status == "ok" for r in records)


def test_a_run_locked_by_another_process_is_waited_for_not_redone(tmp_path, make_benchmark):
    """This process holds gan-s0's lock while a bench in a second process plans it; then it does
    gan-s0 itself, as another bench would, and lets go. The bench does the other runs, waits for
    gan-s0 and takes its record instead of doing it again."""
    toml = make_benchmark(**POINTS)
    out = tmp_path / "results"
    runs = out / "tiny-pts" / "runs"
    lock = RunLock(runs, "gan-s0")
    assert lock.acquire()
    try:
        proc = subprocess.Popen(_bench_cmd(toml, out), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        head = []
        while not head or "to do)" not in head[-1]:                 # the bench has made its plan
            head.append(proc.stdout.readline())
            assert head[-1], "".join(head)
        assert "(0 already done, 4 to do)" in head[-1]
        mine = run_benchmark(toml, profile="tiny", models=["gan"], seeds=[0], out=out, wandb=False, quiet=True)
    finally:
        lock.release()
    text = "".join(head) + proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, text
    assert "gan-s0: ok (done by another process)" in text and ", 3 run now," in text, text
    assert read_record(runs / "gan-s0").created == mine.records[0].created


def test_a_run_whose_holder_died_is_done_by_the_waiting_bench(tmp_path, make_benchmark):
    """A lock holder killed before recording: its lock goes with it, and the run is done."""
    toml = make_benchmark(**POINTS)
    out = tmp_path / "results"
    runs = out / "tiny-pts" / "runs"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys; from genzoo.bench.locks import RunLock; "
                               f"assert RunLock(sys.argv[1], 'gan-s0').acquire(); print('held', flush=True); "
                               "sys.stdin.read()", str(runs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    (runs / "gan-s0").mkdir(parents=True)                       # a half-done run: a folder, no record
    assert RunLock(runs, "gan-s0").busy()
    rep = build_report_after_one_record(toml, out)
    assert rep.incomplete == {"gan-s0": "running"}
    holder.kill()
    holder.wait()
    assert not RunLock(runs, "gan-s0").busy()
    result = run_benchmark(toml, profile="tiny", out=out, wandb=False, quiet=True)
    assert "gan-s0" in result.executed and read_record(runs / "gan-s0").status == "ok"


def build_report_after_one_record(toml: Path, out: Path):
    run_benchmark(toml, profile="tiny", models=["wgan"], seeds=[0], out=out, wandb=False, quiet=True)
    return build_report("tiny-pts", out, figures=False)


# ------------------------------------------------------------ failures of the environment

def test_broken_data_records_nothing_and_good_data_resumes(tmp_path, monkeypatch, make_benchmark):
    """A truncated .gz is the machine's problem, not the run's: no record, a one-line error, and
    with the data repaired the same command trains the run."""
    good = tmp_path / "good"
    shutil.copytree(fashion.DEBIAN_DIR, good)
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    name = "train-images-idx3-ubyte.gz"
    (bad / name).write_bytes((good / name).read_bytes()[:100_000])
    monkeypatch.setenv("GENZOO_DATA", str(bad))
    toml = make_benchmark("tiny-fm", "fashion-mnist", ["gan"], n_samples=100, max_steps=4)
    out = tmp_path / "results"
    with pytest.raises(UserError) as err:
        run_benchmark(toml, profile="tiny", out=out, wandb=False, quiet=True)
    msg = str(err.value)
    assert "gan-s0" in msg and str(bad / name) in msg and "Nothing was recorded" in msg and "\n" not in msg
    assert read_record(out / "tiny-fm" / "runs" / "gan-s0") is None
    assert "Traceback" in (out / "tiny-fm" / "runs" / "gan-s0" / "error.txt").read_text()
    monkeypatch.setenv("GENZOO_DATA", str(good))
    result = run_benchmark(toml, profile="tiny", out=out, wandb=False, quiet=True)
    assert result.executed == ["gan-s0"] and result.records[0].status == "ok"

    # the command line: exit code 2 and one line, no traceback
    monkeypatch.setenv("GENZOO_DATA", str(bad))
    proc = subprocess.run(_bench_cmd(toml, tmp_path / "cli", "--quiet"), capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("genzoo bench: error: gan-s0:")


def test_out_that_is_a_file_fails_before_any_work(tmp_path, make_benchmark):
    toml = make_benchmark(**POINTS)
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "below"):
        with pytest.raises(UserError, match="--out .*afile"):
            run_benchmark(toml, profile="tiny", out=out, wandb=False, quiet=True)
    proc = subprocess.run(_bench_cmd(toml, tmp_path / "afile", "--quiet"), capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("genzoo bench: error: --out") and "Traceback" not in proc.stderr
    if Path("/proc/self").is_dir():        # a folder nobody can create one in (root included): not writable
        with pytest.raises(UserError, match="--out /proc/genzoo-test.*cannot write there"):
            run_benchmark(toml, profile="tiny", out="/proc/genzoo-test", wandb=False, quiet=True)


# ----------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("text, why", [("3-1", "empty seed range"), ("0,0", "given twice"), ("0-2,1", "given twice")])
def test_seed_lists_that_would_run_nothing_or_twice_are_refused(text, why):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match=why):
        list_arg("seeds")(text)


def test_models_and_seeds_given_twice_are_refused(tmp_path, make_benchmark):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="given twice: ae"):
        list_arg("models")("ae,vae,ae")
    toml = make_benchmark(**POINTS)
    with pytest.raises(UserError, match="given twice: gan"):
        run_benchmark(toml, profile="tiny", models=["gan", "gan"], out=tmp_path / "r", wandb=False, quiet=True)
    with pytest.raises(UserError, match="given twice: 0"):
        run_benchmark(toml, profile="tiny", seeds=[0, 0], out=tmp_path / "r", wandb=False, quiet=True)
    proc = subprocess.run(_bench_cmd(toml, tmp_path / "r", "--seeds", "3-1"), capture_output=True, text=True)
    assert proc.returncode == 2 and "empty seed range" in proc.stderr


@pytest.mark.parametrize("name", ["..", "", "../escape", "a/b", ".hidden"])
def test_a_benchmark_name_cannot_leave_the_results_folder(tmp_path, name):
    toml = _toml(tmp_path, benchmark_toml(**{**POINTS, "name": name}))
    with pytest.raises(UserError, match="name"):
        run_benchmark(toml, profile="tiny", out=tmp_path / "r", wandb=False, quiet=True)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("key, value", [("n_samples", 0), ("per_class_samples", 1), ("reference_split", "val")])
def test_runner_keys_out_of_range_are_refused(tmp_path, key, value, make_benchmark):
    toml = make_benchmark(**POINTS, **{"n_samples": None, key: value})
    with pytest.raises(UserError, match=key):
        run_benchmark(toml, profile="tiny", out=tmp_path / "r", wandb=False, quiet=True)


# ------------------------------------------------------------------------ files and records

@pytest.fixture(scope="module")
def one_run(tmp_path_factory, make_benchmark):
    """gan-s0 of the point benchmark, run once with one torch thread. A test that changes its
    folder works on a copy of it (:func:`_copy_of`), so that no test sees what another did."""
    tmp = tmp_path_factory.mktemp("one-run")
    toml = make_benchmark(**POINTS, folder=tmp)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_benchmark(toml, profile="tiny", models=["gan"], seeds=[0], out=tmp / "results",
                               wandb=False, quiet=True)
    finally:
        torch.set_num_threads(threads)
    return result, tmp / "results" / "tiny-pts"


def _copy_of(bench_dir: Path, tmp_path: Path) -> Path:
    """The results folder of ``bench_dir`` copied into ``tmp_path``: the copy's benchmark folder."""
    shutil.copytree(bench_dir.parent, tmp_path / "results", symlinks=True)
    return tmp_path / "results" / bench_dir.name


def test_run_files_get_the_usual_permissions(one_run):
    _, bench_dir = one_run
    umask = os.umask(0)
    os.umask(umask)
    files = [p for p in (bench_dir / "runs" / "gan-s0").rglob("*") if p.is_file()]
    assert {"record.json", "samples.pt", "samples.png", "history.csv.gz", "model.safetensors", "config.json"} <= {
        p.name for p in files}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask, p


def test_the_record_says_how_many_threads_computed_it(one_run):
    result, _ = one_run
    assert result.records[0].torch_threads == 1


def test_a_killed_writer_leaves_no_temporary_file_behind_the_report(one_run, tmp_path):
    """A writer killed with -9 cannot clean up; the next report removes what dead processes left,
    and only that."""
    bench_dir = _copy_of(one_run[1], tmp_path)           # it writes the report and a run's folder there
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = bench_dir / f".summary.md.{dead.pid}.0123abcd.tmp"
    stale.write_text("")
    live = bench_dir / f".claims.md.{os.getpid()}.0123abcd.tmp"        # a writer still at work
    live.write_text("")
    (bench_dir / "runs" / "wgan-s1").mkdir()                              # a run killed before its record
    rep = build_report("tiny-pts", bench_dir.parent, figures=False)
    assert not stale.exists() and live.exists()
    live.unlink()
    assert rep.incomplete == {"wgan-s1": "stopped"}
    assert "wgan-s1: stopped" in (bench_dir / "summary.md").read_text()
    proc = subprocess.run([sys.executable, "-m", "genzoo", "report", "tiny-pts", "--results", str(bench_dir.parent),
                           "--no-figures"], capture_output=True, text=True)
    assert proc.returncode == 0 and "no record: wgan-s1 (stopped)" in proc.stdout


def test_sweep_keeps_other_files(tmp_path):
    write_text(tmp_path / "kept.md", "x")
    (tmp_path / ".notours.tmp").write_text("")
    assert sweep_stale_tmp(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == [".notours.tmp", "kept.md"]


def test_sigterm_stops_a_bench_cleanly(tmp_path, make_benchmark):
    """SIGTERM (what a scheduler or `kill` sends) mid-run: finished records stay, the run going on
    leaves no record and no half-written file, and the command says so."""
    import signal

    toml = make_benchmark(**POINTS, model_settings={"wgan": {"max_steps": 100_000_000}})     # wgan-s0 never ends
    out = tmp_path / "results"
    proc = subprocess.Popen(_bench_cmd(toml, out, "--models", "gan,wgan", "--seeds", "0"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:                       # gan-s0 is recorded, wgan-s0 (endless) has started
        if "wgan-s0: wgan on ring" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err, err
    runs = out / "tiny-pts" / "runs"
    assert read_record(runs / "gan-s0").status == "ok" and read_record(runs / "wgan-s0") is None
    assert not [p for p in out.rglob("*.tmp")]


# ------------------------------------------------------------------ the hardening issue's probes
# Each command line a hostile user tried on d336c0d, run as that user runs it (a process of its own:
# what it prints is what they see). Each now ends in one line that names the input, exit code 2,
# before any work: no traceback, no run recorded. (The API probes are in test_api_hardening.py, the
# metric and cache probes in test_metrics_hardening.py; the finer cases of each are beside them.)

PROBES = {   # what the user typed -> a word the one error line must have
    "a seed range of 10^11 seeds (was a MemoryError)": (["bench", "fashion", "--seeds", "0-99999999999", "--dry-run"],
                                                        "--seeds"),
    "a seed of 23 digits (was run and recorded as failed)": (["bench", "fashion", "--seeds", "9" * 23, "--dry-run"],
                                                             "--seeds"),
    "a trailing comma in --seeds (was accepted)": (["bench", "fashion", "--seeds", "0,", "--dry-run"], "empty item"),
    "--address with the local engine (was accepted)": (["bench", "fashion", "--address", "127.0.0.1:1", "--dry-run"],
                                                       "--address"),
    "sweep --trials 2 --seed=-1 (did not name --seed)": (["sweep", "fashion", "--trials", "2", "--seed=-1"],
                                                        "--seed"),
    "sweep --metric nosuch (trained, then reported '-')": (["sweep", "{plain}", "--profile", "tiny", "--models", "gan",
                                                            "--trials", "1", "--rerun-seeds", "1", "--metric",
                                                            "nosuch", "--no-wandb", "--out", "{out}"], "nosuch"),
    "a table of an unknown model (was accepted)": (["bench", "{nosuch}", "--dry-run"], "nosuch"),
    "only = \"gan\" (said it belongs in a profile)": (["bench", "{only}", "--dry-run"], "must be a list"),
    "dataset_options n = 0 (was recorded as a failure, rc 0)": (["bench", "{n0}", "--profile", "tiny", "--no-wandb",
                                                                 "--out", "{out}"], "n must be at least 2"),
    "batch_size = 1000000000 (was accepted)": (["bench", "{batch}", "--profile", "tiny", "--no-wandb",
                                                "--out", "{out}"], "batch_size"),
}
PROBE_FILES = {   # the benchmark files of the probes: the point benchmark with these keywords of make_benchmark
    "plain": {}, "nosuch": {"model_settings": {"nosuch": {"lr": 1.0}}}, "only": {"only": "gan"},
    "n0": {"dataset_options": {"n": 0}}, "batch": {"batch_size": 1_000_000_000}}


def _probe_argv(tmp: Path, argv: list[str], make_benchmark) -> list[str]:
    """``argv`` with ``{out}`` and ``{<file>}`` replaced by a results folder and benchmark files."""
    names = {"{out}": str(tmp / "out")}
    for key, settings in PROBE_FILES.items():
        names[f"{{{key}}}"] = str(make_benchmark(**{**POINTS, **settings}, folder=tmp / key))
    return [names.get(a, a) for a in argv]


@pytest.mark.parametrize("probe", list(PROBES))
def test_each_probe_of_the_hardening_issue_ends_in_one_line(tmp_path, probe, make_benchmark):
    argv, says = PROBES[probe]
    proc = subprocess.run([sys.executable, "-m", "genzoo", *_probe_argv(tmp_path, argv, make_benchmark)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert proc.returncode == 2, (probe, proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and len(errors) == 1 and says in errors[0], (probe, proc.stderr[-2000:])
    assert not list(tmp_path.glob("out/*/runs/*/record.json")), "nothing is recorded for an input error"
