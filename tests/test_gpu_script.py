"""``python -m genzoo.gpu`` (issue #27): the study on a bare GPU machine, run here on the CPU as it
would run there, with only that machine's packages.

The bare machine has torch, torchmetrics, scipy, pandas, h5py, safetensors and tqdm (and what they
require), genzoo's source on the path, nothing else. The ``bare_site`` fixture makes that
machine's site-packages: a folder of links to those distributions of this environment (their
packages and their ``.dist-info``: the closure of their requirements, extras left out), and
nothing else (no wandb, Ray, matplotlib, torchvision, PIL, pytest: neither importable nor seen by
``importlib.metadata``, which libraries such as torchmetrics ask). The script runs on it with
``python -I -S`` (no site-packages, no user site, no PYTHONPATH, no current folder) and
``sys.path`` = genzoo's source, that folder, the standard library. That is a venv holding only
those packages, without minutes of copying torch into one;
:func:`test_the_bare_python_hides_what_the_machine_lacks` holds it."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import genzoo
from genzoo.bench import load_benchmark
from genzoo.errors import UserError
from genzoo.gpu import EXIT_BUDGET, main, parse_budget

ROOT = Path(__file__).resolve().parents[1]
BARE_PACKAGES = ["torch", "torchmetrics", "scipy", "pandas", "h5py", "safetensors", "tqdm", "numpy"]
RUN = "import runpy, sys; root, site, module, *args = sys.argv[1:]; sys.path[:0] = [root, site]; " \
      "sys.argv = [module, *args]; runpy.run_module(module, run_name='__main__', alter_sys=True)"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names) -> set[str]:
    seen, todo = set(), [_norm(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for r in requires:
            if ";" in r and "extra ==" in r.split(";", 1)[1]:
                continue                                   # an extra: not installed with the package
            todo.append(_norm(re.match(r"[A-Za-z0-9._-]+", r).group(0)))
    return seen


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> Path:
    """The bare machine's site-packages: links to :data:`BARE_PACKAGES` and their requirements."""
    site = tmp_path_factory.mktemp("bare-site")
    allowed = _closure(BARE_PACKAGES)
    for dist in md.distributions():
        if _norm(dist.metadata["Name"]) not in allowed or not dist.files:
            continue
        for f in dist.files:
            top = f.parts[0]
            source = Path(dist.locate_file(top))
            if top != ".." and not (site / top).exists() and source.exists():
                (site / top).symlink_to(source)
    assert (site / "torch").exists() and not (site / "matplotlib").exists()
    return site


@pytest.fixture(scope="module")
def fashion_dir(tmp_path_factory) -> Path:
    """A folder holding only Fashion-MNIST's four .gz files, as ``--data`` gets them."""
    folder = tmp_path_factory.mktemp("fashion-gz")
    files = {Path(f) for split in ("train", "test")
             for f in genzoo.data.load("fashion-mnist", split=split).meta["source"]["files"]}
    assert len(files) == 4 and all(f.name.endswith(".gz") for f in files), files
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def _run(bare: Path, root: Path, module: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([sys.executable, "-I", "-S", "-c", RUN, str(root), str(bare), module, *args], env=env,
                          text=True, capture_output=True, timeout=timeout)


def _gpu(bare, data: Path, out: Path, budget: str, *more: str) -> subprocess.CompletedProcess:
    return _run(bare, ROOT, "genzoo.gpu", "--profile", "tiny", "--budget", budget, "--data", str(data),
                "--out", str(out), "--device", "cpu", "-q", *more)


def _records(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/runs/*/record.json"))}


def _started(out: Path) -> set[str]:
    return {f"{p.parent.parent.name}/runs/{p.name[1:-len('.lock')]}/record.json" for p in out.glob("*/runs/.*.lock")}


def test_the_bare_python_hides_what_the_machine_lacks(bare, tmp_path):
    (tmp_path / "probe.py").write_text(
        "import importlib\n"
        "for name in ('torch', 'torchmetrics', 'scipy', 'pandas', 'h5py', 'safetensors', 'tqdm', 'numpy'):\n"
        "    importlib.import_module(name)\n"
        "for name in ('wandb', 'ray', 'matplotlib', 'torchvision', 'PIL', 'pytest'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit(f'{name} imported')\n"
        "import importlib.metadata as md\n"
        "names = {d.metadata['Name'].lower() for d in md.distributions()}\n"
        "assert 'torch' in names and not names & {'wandb', 'ray', 'matplotlib', 'torchvision', 'pillow'}, names\n"
        "print('hidden')\n")
    done = _run(bare, tmp_path, "probe")
    assert done.returncode == 0 and done.stdout.strip() == "hidden", done.stderr[-2000:]


def _whole(records: dict[str, bytes]) -> None:
    """Every record parses and is of a run that went right (nothing failed for a missing package)."""
    for name, raw in records.items():
        record = json.loads(raw)
        assert record["status"] == "ok", (name, record.get("reason"))
        assert record["train"]["compile"] == {"asked": "auto", "compiled": False}     # auto: off on the CPU


def _cut_while_running(bare, data: Path, out: Path, log: Path, *more: str) -> int:
    """Start the script with a budget it cannot reach and cut it as its own budget would: the
    ``SIGALRM`` its deadline sets off, sent here once one run is recorded and another is in
    progress with more left after it, so that what is cut does not depend on this machine's speed.
    Returns its exit status."""
    total = len(load_benchmark("fashion").plan("tiny"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", RUN, str(ROOT), str(bare), "genzoo.gpu",
                                 "--profile", "tiny", "--budget", "30m", "--data", str(data), "--out", str(out),
                                 "--device", "cpu", "-q", *more], env=env, text=True, stdout=f, stderr=subprocess.STDOUT)
        try:
            while True:
                assert proc.poll() is None, f"it ended ({proc.returncode}) before it was cut: {log.read_text()[-3000:]}"
                done = _records(out)
                if 1 <= len(done) <= total - 2 and _started(out) - set(done):
                    break
                time.sleep(0.01)
            proc.send_signal(signal.SIGALRM)
            return proc.wait(600)
        finally:
            if proc.poll() is None:
                proc.kill()


def test_a_budget_cut_keeps_finished_records_and_the_next_call_resumes(bare, fashion_dir, tmp_path):
    """A call cut by its budget (exit 75) leaves whole records and at most the cut run unrecorded;
    the same command again keeps those records as they are and redoes the cut run first; a call
    with time enough finishes (exit 0), then the speed part; a call with nothing left to do does
    nothing; a budget spent at once (1 ms) cuts before anything is done. Nothing here depends on how
    fast this machine is (the mid-run cut is sent when a run is seen in progress)."""
    out = tmp_path / "out"
    fashion = ("--benchmarks", "fashion")             # 18 tiny runs of a second or more each: one is seen running
    rc = _cut_while_running(bare, fashion_dir, out, tmp_path / "first.log", *fashion, "--parts", "profiles")
    log = (tmp_path / "first.log").read_text()
    assert rc == EXIT_BUDGET, log[-3000:]
    assert "the time budget is spent" in log and "run the same command again" in log
    before = _records(out)
    _whole(before)
    assert before
    cut = _started(out) - set(before)
    assert len(cut) <= 1                                   # at most the run in progress was cut, unrecorded

    plan = load_benchmark("fashion").plan("tiny")
    speed = ("--parts", "profiles,speed", "--speed-models", "gan")    # one cheap model: the part, not its numbers
    last = _gpu(bare, fashion_dir, out, "30m", *fashion, *speed)
    assert last.returncode == 0, last.stdout[-2000:] + last.stderr[-3000:]
    done = _records(out)
    _whole(done)
    assert {k: done[k] for k in before} == before          # finished runs are skipped, their records untouched
    assert {f"fashion/runs/{s.run_id}/record.json" for s in plan} <= set(done)   # the cut run redone
    assert cut <= set(done)
    rows = json.loads((out / "speed" / "cpu.rows.json").read_text())
    assert list(rows) == ["gan"]
    assert rows["gan"]["genzoo_steps_per_s"] > 0 and rows["gan"]["plain_steps_per_s"] > 0
    assert rows["gan"]["packed_images_per_s"] > 0 and rows["gan"]["compiled_steps_per_s"] is None   # auto: not on a CPU
    table = (out / "speed" / "cpu.md").read_text()
    assert "| gan |" in table

    again = _gpu(bare, fashion_dir, out, "30m", *fashion, *speed)
    assert again.returncode == 0 and "speed, " not in again.stdout          # nothing measured again
    assert _records(out) == done and (out / "speed" / "cpu.md").read_text() == table

    at_once = _gpu(bare, fashion_dir, out, "0.001s", "--benchmarks", "pattern-1010,fashion", *speed)
    assert at_once.returncode == EXIT_BUDGET, at_once.stdout[-2000:] + at_once.stderr[-3000:]
    assert _records(out) == done                            # nothing recorded, nothing touched


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert parse_budget("40s") == 40 and parse_budget("8m") == 480 and parse_budget("1.5h") == 5400
    assert parse_budget("90") == 90
    for bad in ("soon", "-3m", "0s", "8 minutes"):
        with pytest.raises(UserError, match="^--budget: a positive time such as 40s, 8m or 1h"):
            parse_budget(bad)
    assert main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--budget", "1m"]) == 2
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "o"), "--budget", "1m", "--parts", "all"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such folder" in err[0] and "--parts: unknown all" in err[1]
    assert not (tmp_path / "o").exists()
