"""``genzoo demo [FOLDER ...] [--port P]``: serve the demo page; ``--export``: write the runs'
sampler-only checkpoints from their full ones."""

from __future__ import annotations

import argparse
import sys

DEFAULT_PORT = 7860


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", help="a local web page that samples saved models (needs genzoo[demo])",
        description="Serve a page on 127.0.0.1 that samples the saved models found under the folders "
        "(results folders, benchmark or run folders, or model folders written by save_pretrained): sample "
        "grids by seed, a class picker for conditional models, latent interpolations, 2-D samples over "
        "the true modes, two models side by side, and each run's metrics. It never trains; it runs on "
        "the CPU.\n\n--export writes each run's sampler/ folder (the networks sample() needs) from its "
        "full checkpoint/ folder, and serves nothing.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="*", default=["results"], metavar="FOLDER",
                   help="results, benchmark, run or model folders (default: results)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port, the one taken is "
                        "in the address printed on stderr)")
    p.add_argument("--export", action="store_true",
                   help="write sampler/ beside every run's checkpoint/ under the folders, then stop")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from . import core

    folders = args.folders or ["results"]
    if args.export:
        written = core.export_samplers(folders)
        for path, size in written:
            print(f"{path}  {size / 1e6:.2f} MB")
        total = sum(size for _, size in written)
        kept = sum(size for path, size in written if path.parent.name.endswith("-s0"))
        print(f"{len(written)} sampler folders written, {total / 1e6:.1f} MB in all; seed 0's, which git keeps "
              f"(see the README's budget): {kept / 1e6:.1f} MB")
        return 0
    sock = core.listen(args.port)    # held from now on: the port announced is the port served (0: any free one)
    try:
        found = core.discover(folders)
        for note in found.notes:
            print(f"genzoo demo: note: {note}", file=sys.stderr)
        from . import app

        app.gradio()                 # UserError now, not after the announcement, without the extra
        port = sock.getsockname()[1]
        print(f"genzoo demo: {core.summary_line(found)} on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
        app.serve(found, sock)
    finally:
        sock.close()
    return 0
