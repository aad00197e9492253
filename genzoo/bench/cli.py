"""``genzoo bench BENCHMARK [...]``: run (or resume) benchmarks from ``benchmarks/*.toml``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .._args import list_arg, seed_arg
from ..errors import UserError
from ..limits import MAX_SEED, MAX_SEEDS
from .spec import list_benchmarks, load_benchmark

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
    p.add_argument("--models", type=list_arg("models"), default=None, metavar="A,B",
                   help="only these models (default: the benchmark's list)")
    p.add_argument("--seeds", type=list_arg("seeds"), default=None, metavar="0,1",
                   help=f"these seeds instead of the profile's (0,1,2 or 0-4; at most {MAX_SEEDS:,}, each "
                        f"from 0 to {MAX_SEED:,})")
    p.add_argument("--list", action="store_true", help="list the benchmarks and their profiles, then exit")
    p.add_argument("--dry-run", action="store_true", help="print the runs that would be done, then exit")
    add_run_options(p)
    p.set_defaults(func=run)
    return p


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options of how runs are done and where they go, shared by ``genzoo bench`` and ``genzoo sweep``."""
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--wandb-project", default=None, metavar="P", help="W&B project (default: genzoo)")
    p.add_argument("--no-wandb", action="store_true", help="do not log to Weights & Biases")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="results folder (default: out, which git ignores; the committed reference is results/, "
                        "which `genzoo report` compares a run with)")
    p.add_argument("--force", action="store_true", help="redo runs that are already recorded")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="read the dataset's files from DIR (its loader's data_dir=, for every split and for training "
                        "the evaluator that scores it on first use); default: GENZOO_DATA, else genzoo's cache and "
                        "the places its loader knows. Refused for data that is generated, not read")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local (default): the runs one after another in this process; ray: each run a Ray task, "
                        "as many at once as the Ray cluster has room for (--address, else RAY_ADDRESS, else the "
                        "cluster `ray start` started on this machine, else a new local one sized to the machine); "
                        "this process writes the records as the runs finish and logs them to W&B. "
                        "Needs pip install 'genzoo[ray]'")
    p.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="--engine ray: the Ray cluster to run on (default: RAY_ADDRESS, else the cluster `ray start` "
                        "started on this machine, else a new local instance; local: always a new local instance)")
    p.add_argument("--gpus-per-run", type=_share("GPUs"), default=None, metavar="G",
                   help="--engine ray: the share of a GPU each run gets, e.g. 0.125 for 8 runs per GPU (default: "
                        "1/16 on a CUDA device, else 0); above 0, the runs use CUDA")
    p.add_argument("--cpus-per-run", type=_share("CPUs"), default=1.0, metavar="C",
                   help="--engine ray: the CPUs each run gets, and its torch threads (default: 1)")
    p.add_argument("--pack", choices=("auto", "on", "off"), default="auto",
                   help="train the seeds of one model together in one process (genzoo.fit_seeds), each still with "
                        "its own record: on, off, or auto (default: on a CUDA device only; it does not pay on a "
                        "CPU, results/speed/cpu.md); with --engine ray the seeds of a model are then one task")
    p.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                   help="compile each run's training step with torch.compile (CUDA graphs on a GPU; the same results "
                        "up to float rounding): on, off, or auto (default: on a CUDA device for fits of 1,000 steps or "
                        "more; on a CPU it does not pay). A model that cannot be compiled (WGAN-GP's gradient penalty, "
                        "experience replay) trains eagerly; each record's train.compile says what was done")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def run_options(args) -> dict:
    """``run_benchmark``'s keyword arguments from :func:`add_run_options`' options."""
    check_engine_options(args)
    ray = None
    if args.engine == "ray":
        from .ray_engine import RayOptions

        ray = RayOptions(address=args.address, gpus_per_run=args.gpus_per_run, cpus_per_run=args.cpus_per_run)
    return dict(device=args.device, out=args.out, force=args.force, wandb=not args.no_wandb,
                wandb_project=args.wandb_project, quiet=args.quiet, pack=args.pack, engine=args.engine, ray=ray,
                data_dir=args.data_dir, compile=args.compile)


def check_engine_options(args) -> None:
    """Ray's options without ``--engine ray`` are refused, whatever the command then does (--dry-run,
    --list, --show-space included), before anything is read or started."""
    if args.engine == "ray":
        return
    given = [flag for flag, value in (("--address", args.address), ("--gpus-per-run", args.gpus_per_run),
                                      ("--cpus-per-run", None if args.cpus_per_run == 1.0 else 1))
             if value is not None]
    if given:
        verb = "applies" if len(given) == 1 else "apply"
        raise UserError(f"{', '.join(given)} only {verb} with --engine ray (the engine is {args.engine}: the runs "
                        f"are done in this process)")


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
    check_engine_options(args)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="genzoo bench: %(message)s")
    if args.list:
        return _list_benchmarks()
    if not args.benchmark:
        raise UserError("name a benchmark (see `genzoo bench --list`)")
    benches = [load_benchmark(b) for b in args.benchmark]   # check every file before running any
    if args.data_dir is not None:                           # and that each dataset reads files
        from .data import check_options

        for b in benches:
            check_options(b.dataset, {"data_dir": args.data_dir}, "--data-dir")
    if args.dry_run:
        return _dry_run(benches, args)
    from .api import run_benchmark

    options = run_options(args)
    for b in benches:
        run_benchmark(b, profile=args.profile, models=args.models, seeds=args.seeds, **options)
    return 0  # diverged / failed runs are results (recorded with their reason), not errors


def _list_benchmarks() -> int:
    for name, path in list_benchmarks().items():
        b = load_benchmark(path)
        print(f"{name:16s} {b.dataset:22s} models {','.join(b.models)}; profiles "
              f"{', '.join(p + ('*' if p == b.default_profile else '') for p in b.profiles)}  ({path})")
    return 0


def _dry_run(benches, args) -> int:
    """Print the runs each benchmark would do; every plan is made (and checked) before any is printed."""
    from .environment import resolve_device
    from .plan import resolve_profile
    from .store import run_state

    device = resolve_device(args.device)
    plans = []
    for b in benches:
        profile, why = resolve_profile(b, args.profile, device)
        plans.append((b, profile, why, b.plan(profile, models=args.models, seeds=args.seeds)))
    for b, profile, why, specs in plans:
        print(f"{b.name}: profile {profile} ({why})")
        for spec in specs:
            state, _ = run_state(Path(args.out) / b.name / "runs", spec, args.force)
            if state == "conflict":
                state = "CONFLICT (recorded from another plan: --force redoes it, --out writes elsewhere)"
            print(f"{b.name}/{spec.run_id}: {state}  preset={spec.preset} overrides={spec.overrides} "
                  f"n_samples={spec.settings.n_samples} train_subset={spec.settings.train_subset}"
                  f"{_settings_from(spec)}")
    return 0


def _settings_from(spec) -> str:
    """The dry run's note of where a run's searched settings come from (a profile's settings_from)."""
    src = spec.settings_from
    if src is None:
        return ""
    return f"  settings_from={src['sweep']} trial {src['trial']} ({src['metric']} {src['value']:.4g})"


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
    from .tracking.replay import log_records

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="genzoo wandb: %(message)s")
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
