"""``genzoo bench --jobs N``: every (model, seed) run of a benchmark as its own process, N at a time.

The default models are small, so one process leaves a GPU mostly idle waiting for kernel launches;
on an H100, up to 16 processes at once finished the 30 runs of the fashion ``paper`` profile in
~14 min, where one process would need ~50 (estimated from its step rates). Each child is
``genzoo bench BENCHMARK --models M --seeds S``, so a run is done, recorded and resumable exactly
as without ``--jobs``; its output goes to ``OUT/BENCHMARK/logs/<model>-s<seed>.log``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..errors import UserError
from .runner import (REFERENCE, _fmt_s, check_unique, check_writable, conflict_error, estimate_seconds, read_record,
                     resolve_device, resolve_profile, run_state)
from .spec import Benchmark, RunSpec


def child_command(bench: Benchmark, spec: RunSpec, *, profile: str, device: str, out: str, force: bool,
                  wandb: bool, wandb_project: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "genzoo", "bench", str(bench.path), "--profile", profile, "--models", spec.model,
           "--seeds", str(spec.seed), "--device", device, "--out", str(out), "--quiet", "--no-comparison"]
    if force:
        cmd.append("--force")
    if not wandb:
        cmd.append("--no-wandb")
    if wandb_project:
        cmd += ["--wandb-project", wandb_project]
    return cmd


def run_parallel(bench: Benchmark, *, jobs: int, profile: str | None = None, models=None, seeds=None,
                 device: str = "auto", out: str | Path = "out", force: bool = False, wandb: bool = True,
                 wandb_project: str | None = None, quiet: bool = False) -> dict[str, int]:
    """Run the benchmark's missing runs in ``jobs`` child processes; returns {run_id: exit code}.

    Plan conflicts are found (and raised as :class:`UserError`) before any child starts. A child
    that crashes leaves no record (its log says why); the others go on, and a :class:`UserError`
    listing the lost runs is raised at the end."""
    from tqdm.auto import tqdm

    if jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {jobs}")
    dev = resolve_device(device)
    profile, why = resolve_profile(bench, profile, dev)
    check_unique("models", models)
    check_unique("seeds", seeds)
    runs_dir = Path(out) / bench.name / "runs"
    check_writable(runs_dir)
    todo = []
    for spec in bench.plan(profile, models=models, seeds=seeds):
        state, rec = run_state(runs_dir, spec, force)
        if state == "conflict":
            raise conflict_error(runs_dir, spec, rec)
        if state == "todo":
            todo.append(spec)
    logs = Path(out) / bench.name / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if dev == "cpu" and "OMP_NUM_THREADS" not in env:   # share the cores instead of oversubscribing them
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // min(jobs, max(1, len(todo)))))
    if not quiet:
        at_once = max(1, min(jobs, len(todo)))
        eta, _ = estimate_seconds(bench, todo, dev)
        print(f"genzoo bench {bench.name}: profile {profile} ({why}), {len(todo)} runs to do in {at_once} "
              f"parallel processes on {dev}"
              + (f"; about {_fmt_s(eta / at_once)} judging by the reference records in {REFERENCE}/{bench.name}"
                 if todo and eta is not None else "") + f"; logs in {logs}", flush=True)

    def one(spec: RunSpec) -> int:
        cmd = child_command(bench, spec, profile=profile, device=dev, out=str(out), force=force, wandb=wandb,
                            wandb_project=wandb_project)
        with open(logs / f"{spec.run_id}.log", "w") as log:
            return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode

    codes: dict[str, int] = {}
    lost: list[str] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool, \
            tqdm(total=len(todo), desc=f"bench {bench.name}", unit="run", disable=True if quiet else None) as bar:
        futures = {pool.submit(one, spec): spec for spec in todo}
        try:
            for fut in as_completed(futures):
                spec = futures[fut]
                codes[spec.run_id] = rc = fut.result()
                rec = read_record(runs_dir / spec.run_id)
                if rec is None:
                    lost.append(spec.run_id)
                status = rec["status"] if rec else f"no record (exit code {rc}; see {logs / spec.run_id}.log)"
                bar.update(1)
                if not quiet:
                    bar.write(f"{spec.run_id}: {status} after {time.perf_counter() - t0:.0f}s")
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            raise
    if lost:   # a crashed child (out of memory, killed): say so rather than redo it in this process
        raise UserError(f"{len(lost)} of {len(codes)} runs ended without a record: {', '.join(lost)} "
                        f"(see {logs}/<run>.log); run the same command again to retry them")
    return codes
