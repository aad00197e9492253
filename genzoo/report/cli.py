"""``genzoo report BENCHMARK [BENCHMARK ...] [--results results]``."""

from __future__ import annotations

import argparse
from pathlib import Path

README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", help="write tables, figures and tested claims from a benchmark's run records",
        description="Read results/<benchmark>/runs/*/record.json and write summary.md, summary.csv, claims.md, "
                    "claims.json, literature.md and figures/*.png under results/<benchmark>/.")
    p.add_argument("benchmark", nargs="+", help="benchmark name(s), i.e. folder(s) under --results")
    p.add_argument("--results", default="out", help="results folder (default: out, where `genzoo bench` writes; "
                                                    "the committed reference is results)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (tables and claims only)")
    p.add_argument("--reference", default="results", metavar="DIR",
                   help="compare with the records of the same benchmark and profile in DIR, the committed "
                        "reference (default: results; skipped when it is --results; '' for none)")
    p.add_argument("--readme", metavar="PATH", help="also rewrite the generated results block of this README "
                   f"from the records: between {README_START!r} and {README_END!r} for --results results, "
                   "between '<!-- results:start DIR -->' and '<!-- results:end DIR -->' for --results DIR")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from .build import build_report  # noqa: PLC0415  (keeps `genzoo --help` fast)

    for name in args.benchmark:
        rep = build_report(name, args.results, figures=not args.no_figures, reference=args.reference or None)
        ok = int(rep.summary["n"].sum())
        print(f"{name}: {len(rep.summary)} models, {ok} ok runs -> {rep.dir}/ "
              f"(summary.md, summary.csv, claims.md, literature.md, {len(rep.figures)} figures)")
        for c in rep.claims:
            print(f"  {c.verdict:<13} {c.title}")
        for p in rep.problems:
            print(f"  problem: {p}")
        if rep.reproduction is not None:
            r = rep.reproduction
            print(f"  reproduction check against {args.reference}/{name}: {r['agree']} agree, {r['differ']} differ, "
                  f"{r['cannot tell']} cannot tell (summary.md)")
        if rep.incomplete:
            print("  not in the report, no record: " + ", ".join(f"{r} ({s})" for r, s in rep.incomplete.items()))
    if args.readme:
        update_readme(Path(args.readme), args.results)
        print(f"README results block rewritten: {args.readme}")
    return 0


def readme_markers(results: str) -> tuple[str, str]:
    """The comments around the README block of a results folder: plain for ``results``, naming
    the folder otherwise (so that ``results/paper`` gets a block of its own)."""
    name = Path(results).as_posix().rstrip("/")
    if name == "results":
        return README_START, README_END
    return f"<!-- results:start {name} -->", f"<!-- results:end {name} -->"


def update_readme(readme: Path, results: str) -> None:
    """Replace the README's generated block of ``results`` with :func:`readme_snippet` of every
    benchmark in it."""
    from ..errors import UserError
    from .._io import write_text
    from .build import readme_snippet

    start, end = readme_markers(results)
    text = readme.read_text()
    if start not in text or end not in text:
        raise UserError(f"{readme} has no {start} ... {end} block to rewrite")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    write_text(readme, f"{head}{start}\n{readme_snippet(results)}\n{end}{tail}")
