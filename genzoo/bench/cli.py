"""``genzoo bench BENCHMARK [...]``: run (or resume) benchmarks from ``benchmarks/*.toml``."""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import UserError


def _csv(kind):
    def parse(text: str):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind}")
        if kind == "seeds":
            out = []
            for t in items:
                try:
                    if "-" in t[1:]:
                        a, b = (int(v) for v in t.split("-", 1))
                        if a > b:
                            raise argparse.ArgumentTypeError(f"empty seed range {t!r}: write it low-high, e.g. {b}-{a}")
                        out += list(range(a, b + 1))
                    else:
                        out.append(int(t))
                except ValueError:
                    raise argparse.ArgumentTypeError(f"bad seed {t!r}: use e.g. 0,1,2 or 0-4") from None
            if any(s < 0 for s in out):
                raise argparse.ArgumentTypeError("seeds must be >= 0")
            items = out
        from .runner import given_twice

        twice = given_twice(items)
        if twice:
            raise argparse.ArgumentTypeError(f"{kind} given twice: {', '.join(map(str, twice))}")
        return items
    return parse


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bench", help="run a benchmark (fit, score and record every model x seed)",
        description="Run (or resume) benchmarks from benchmarks/*.toml: fit, score and record every "
        "model x seed of a profile into OUT/BENCHMARK/runs/<model>-s<seed>/record.json.\n\n"
        "A finished run (its record.json exists) is skipped on the next invocation; --force redoes it.\n"
        "W&B: offline (in OUT/BENCHMARK/wandb, `wandb sync` later) unless an API key is configured;\n"
        "WANDB_MODE, when set, wins; --no-wandb turns it off.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmark", nargs="*", metavar="BENCHMARK",
                   help="benchmark name (a file in benchmarks/, e.g. fashion, modes-ring) or a .toml path; "
                        "several run one after another")
    p.add_argument("--profile", default="auto", help="profile in the benchmark file; auto (the default): paper "
                                                     "on a CUDA device, quick otherwise")
    p.add_argument("--models", type=_csv("models"), default=None, metavar="A,B",
                   help="only these models (default: the benchmark's list)")
    p.add_argument("--seeds", type=_csv("seeds"), default=None, metavar="0,1",
                   help="these seeds instead of the profile's (0,1,2 or 0-4)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--wandb-project", default=None, metavar="P", help="W&B project (default: genzoo)")
    p.add_argument("--no-wandb", action="store_true", help="do not log to Weights & Biases")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="results folder (default: out, which git ignores; the committed reference is results/, "
                        "which `genzoo report` compares a run with)")
    p.add_argument("--force", action="store_true", help="redo runs that are already recorded")
    p.add_argument("--list", action="store_true", help="list the benchmarks and their profiles, then exit")
    p.add_argument("--dry-run", action="store_true", help="print the runs that would be done, then exit")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local (default): the runs one after another in this process; ray: each run a Ray task, "
                        "as many at once as the Ray cluster has room for (--address, else RAY_ADDRESS, else the "
                        "cluster `ray start` started on this machine, else a new local one sized to the machine); "
                        "this process writes the records as the runs finish and logs them to W&B. "
                        "Needs pip install 'genzoo[ray]'")
    p.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="--engine ray: the Ray cluster to run on (default: RAY_ADDRESS, else a local instance)")
    p.add_argument("--gpus-per-run", type=_share("GPUs"), default=None, metavar="G",
                   help="--engine ray: the share of a GPU each run gets, e.g. 0.125 for 8 runs per GPU (default: "
                        "1/16 on a CUDA device, else 0); above 0, the runs use CUDA")
    p.add_argument("--cpus-per-run", type=_share("CPUs"), default=1.0, metavar="C",
                   help="--engine ray: the CPUs each run gets, and its torch threads (default: 1)")
    p.add_argument("--pack", choices=("auto", "on", "off"), default="auto",
                   help="train the seeds of one model together in one process (genzoo.fit_seeds), each still with "
                        "its own record: on, off, or auto (default: on a CUDA device only; it does not pay on a "
                        "CPU, results/speed/cpu.md); with --engine ray the seeds of a model are then one task")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


ENGINES = ("local", "ray")


def _share(what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of {what}, got {text!r}") from None
        if not value >= 0 or value > 1024:
            raise argparse.ArgumentTypeError(f"must be a number of {what} from 0, got {text!r}")
        return value
    return parse


def run(args) -> int:
    from .runner import run_benchmark, run_state
    from .spec import list_benchmarks, load_benchmark

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="genzoo bench: %(levelname)s: %(message)s")
    if args.list:
        for name, path in list_benchmarks().items():
            b = load_benchmark(path)
            print(f"{name:16s} {b.dataset:22s} models {','.join(b.models)}; profiles "
                  f"{', '.join(p + ('*' if p == b.default_profile else '') for p in b.profiles)}  ({path})")
        return 0
    if not args.benchmark:
        raise UserError("name a benchmark (see `genzoo bench --list`)")
    benches = [load_benchmark(b) for b in args.benchmark]   # check every file before running any
    if args.dry_run:
        from pathlib import Path

        from .runner import resolve_device, resolve_profile

        for b in benches:
            profile, why = resolve_profile(b, args.profile, resolve_device(args.device))
            print(f"{b.name}: profile {profile} ({why})")
            for spec in b.plan(profile, models=args.models, seeds=args.seeds):
                state, _ = run_state(Path(args.out) / b.name / "runs", spec, args.force)
                if state == "conflict":
                    state = "CONFLICT (recorded from another plan: --force redoes it, --out writes elsewhere)"
                print(f"{b.name}/{spec.run_id}: {state}  preset={spec.preset} overrides={spec.overrides} "
                      f"n_samples={spec.settings['n_samples']} train_subset={spec.settings['train_subset']}")
        return 0
    ray = None
    if args.engine == "ray":
        from .ray_engine import RayOptions

        ray = RayOptions(address=args.address, gpus_per_run=args.gpus_per_run, cpus_per_run=args.cpus_per_run)
    else:
        given = [flag for flag, value in (("--address", args.address), ("--gpus-per-run", args.gpus_per_run),
                                          ("--cpus-per-run", None if args.cpus_per_run == 1.0 else 1))
                 if value is not None]
        if given:
            raise UserError(f"{', '.join(given)} only apply with --engine ray")
    for b in benches:
        run_benchmark(b, profile=args.profile, models=args.models, seeds=args.seeds, device=args.device,
                      out=args.out, force=args.force, wandb=not args.no_wandb, wandb_project=args.wandb_project,
                      quiet=args.quiet, pack=args.pack, engine=args.engine, ray=ray)
    return 0  # diverged / failed runs are results (recorded with their reason), not errors


def add_wandb_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "wandb", help="log recorded runs that have no W&B run (e.g. run with --no-wandb) to W&B",
        description="Log the recorded runs of benchmarks that have no W&B run (run with --no-wandb, on a "
        "machine without wandb, or where no W&B run could start) to Weights & Biases from their records: "
        "config, training curves, final samples, metrics and the models' comparison table. Offline (in "
        "RESULTS/BENCHMARK/wandb, `wandb sync` later) unless an API key is configured; WANDB_MODE, when set, "
        "wins. Each record then names its W&B run, so nothing is logged twice.")
    p.add_argument("benchmark", nargs="+", metavar="BENCHMARK", help="benchmark name or .toml path")
    p.add_argument("--results", default="out", metavar="DIR",
                   help="the results folder the runs were written to (bench --out; default: out)")
    p.add_argument("--wandb-project", default=None, metavar="P", help="W&B project (default: genzoo)")
    p.add_argument("--pack", choices=("auto", "on", "off"), default="auto",
                   help="train the seeds of one model together in this process (genzoo.fit_seeds), each still with "
                        "its own record: on, off, or auto (default: on a CUDA device only; it does not pay on a "
                        "CPU, results/speed/cpu.md)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run_wandb)
    return p


def run_wandb(args) -> int:
    from .replay import log_records
    from .spec import load_benchmark

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="genzoo wandb: %(levelname)s: %(message)s")
    for b in [load_benchmark(b) for b in args.benchmark]:
        log_records(b, results=args.results, project=args.wandb_project, quiet=args.quiet)
    return 0


def main(argv=None) -> int:
    """``python -m genzoo.bench.cli ...``: the same command without the top-level ``genzoo``."""
    parser = argparse.ArgumentParser(prog="genzoo")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["bench", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"genzoo bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
