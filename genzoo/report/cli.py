"""``genzoo report BENCHMARK [BENCHMARK ...] [--results results]``."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", help="write tables, figures and tested claims from a benchmark's run records",
        description="Read results/<benchmark>/runs/*/record.json and write summary.md, summary.csv, claims.md, "
                    "claims.json, literature.md and figures/*.png under results/<benchmark>/.")
    p.add_argument("benchmark", nargs="+", help="benchmark name(s), i.e. folder(s) under --results")
    p.add_argument("--results", default="results", help="results folder (default: results)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (tables and claims only)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from .build import build_report  # noqa: PLC0415  (keeps `genzoo --help` fast)

    for name in args.benchmark:
        rep = build_report(name, args.results, figures=not args.no_figures)
        ok = int(rep.summary["n"].sum())
        print(f"{name}: {len(rep.summary)} models, {ok} ok runs -> {rep.dir}/ "
              f"(summary.md, summary.csv, claims.md, literature.md, {len(rep.figures)} figures)")
        for c in rep.claims:
            print(f"  {c.verdict:<13} {c.title}")
        for p in rep.problems:
            print(f"  problem: {p}")
    return 0
