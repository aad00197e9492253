"""``genzoo sweep BENCHMARK [--profile P] [--models M,...] [--trials K] [--space wide|narrow] [--seed S]``:
random hyper-parameter search with the protocol of Lucic et al. 2018 (trial 0 = each model's
defaults, then K-1 draws from its space; the best trial re-run with several seeds), each trial a
normal run of the benchmark, resumable; the report (sweep.md, figures) lands beside the runs in
OUT/sweeps/<space>-s<seed>/BENCHMARK/. ``genzoo sweep --show-space MODEL`` prints a model's space."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Random hyper-parameter search with the protocol of Lucic et al. 2018: for each model, trial 0 is its
defaults, then K-1 draws from its search space; the best trial is re-run with several seeds. Each
trial is a normal run of the benchmark (its own record, resumable); the report (sweep.md, figures)
goes beside the runs in OUT/sweeps/<space>-s<seed>/BENCHMARK/.

genzoo sweep --show-space MODEL prints a model's search space."""


def add_parser(sub) -> None:
    from .._args import list_arg, seed_arg
    from ..bench.cli import add_run_options
    from ..limits import MAX_SEED

    p = sub.add_parser("sweep", help="hyper-parameter random search (Lucic et al. 2018): best-of-K, FID against budget",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmark", nargs="?", help="a benchmark name or TOML path (as for genzoo bench)")
    p.add_argument("--profile", default="auto",
                   help="a sweep of the benchmark file ([sweeps.NAME]: its models, trials, space and the benchmark "
                        "profile the trials train with), else a benchmark profile; auto (default): paper on a CUDA "
                        "device, quick otherwise")
    p.add_argument("--models", type=list_arg("models"), default=None, metavar="A,B", help="the models to sweep")
    p.add_argument("--trials", type=int, default=None, help="trials per model, trial 0 = the defaults")
    p.add_argument("--space", default=None, choices=["wide", "narrow"], help="search space (default wide)")
    p.add_argument("--seed", type=seed_arg, default=None,
                   help=f"the sweep's seed: the same seed draws the same trials (0 to {MAX_SEED:,})")
    p.add_argument("--rerun-seeds", type=int, default=None,
                   help="re-run each model's best trial with seeds 0..N-1 (default 5; 1: no re-runs)")
    p.add_argument("--metric", help="what 'best' means: a metric the trials are scored with (default: fid, else "
                                    "modes_covered)")
    p.add_argument("--show-space", metavar="MODEL", help="print MODEL's search space (--space) and exit")
    add_run_options(p)
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ..bench.cli import check_engine_options, run_options
    from ..bench import load_benchmark, resolve_device, resolve_profile
    from ..errors import UserError
    from .run import run_sweep
    from .space import describe_space

    check_engine_options(args)
    if args.show_space:
        try:
            print(describe_space(args.show_space, args.space or "wide"))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return 0
    if not args.benchmark:
        raise UserError("name a benchmark (or --show-space MODEL)")
    bench = load_benchmark(args.benchmark)
    if args.data_dir is not None:              # the dataset must read files for --data-dir to mean anything
        from ..bench.data import check_options

        check_options(bench.dataset, {"data_dir": args.data_dir}, "--data-dir")
    name, _ = resolve_profile(bench, args.profile, resolve_device(args.device))
    sweep, profile = (name, None) if name in bench.sweeps else (None, name)
    path = run_sweep(bench, sweep=sweep, profile=profile, models=args.models, trials=args.trials,
                     level=args.space, seed=args.seed, rerun_seeds=args.rerun_seeds, metric=args.metric,
                     **run_options(args))
    print(f"genzoo sweep: report {path}")
    return 0
