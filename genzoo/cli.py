"""The ``genzoo`` command: ``genzoo score``, ``genzoo bench``, ``genzoo report``, ``genzoo wandb``, ``genzoo speed``,
``genzoo sweep``, ``genzoo demo``.

Building the parser imports only the commands' argument definitions (no torch, pandas, ray, wandb,
matplotlib, scipy or gradio), so that ``genzoo --help`` answers at once; each command imports what
it needs when it runs."""

from __future__ import annotations

import argparse
import sys

from .errors import UserError

DESCRIPTION = """\
genzoo trains the classic generative models on the same data with the same seeds, scores them the
same way, and reports the results. `genzoo COMMAND --help` describes a command."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .bench import cli as bench_cli
    from .metrics import cli as metrics_cli
    from .report import cli as report_cli
    from . import speed
    from .sweep import cli as sweep_cli
    from .demo import cli as demo_cli

    parser = argparse.ArgumentParser(prog="genzoo", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"genzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (bench_cli, metrics_cli, report_cli, speed, sweep_cli):
        module.add_parser(sub)
    bench_cli.add_wandb_parser(sub)
    demo_cli.add_parser(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that half-written files are removed on the way out."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError) as exc:
        print(f"genzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"genzoo {args.command}: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}; "
              f"finished records and files are kept", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
