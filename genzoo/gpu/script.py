"""The command of :mod:`genzoo.gpu`: its options, the budget, and the three parts in order.

Only torch, tqdm, numpy and what genzoo's bench, metrics and speed import on these paths (scipy,
pandas, safetensors, torchmetrics, h5py) are imported: no wandb (``wandb=False``), no Ray (the
local engine), no matplotlib (no report figures); ``tests/test_gpu_script.py`` runs it with every
other installed package hidden."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import BudgetSpent, UserError

PARTS = ("profiles", "speed", "sweeps")          # what the script does, in this order
FIRST = ("fashion", "modes-ring", "modes-grid", "pattern-1010", "modes-stacked")  # then the others with data
SPEED_MODELS = ("dcgan", "wgan", "gan", "vae")   # genzoo speed's rows (the targets are DCGAN's)
EXIT_BUDGET = 75                                 # the budget ran out first: the same command continues
_SPEED = {  # profile -> genzoo speed's settings (steps timed, warm-up steps, rounds, packed seeds, preset)
    "tiny": dict(steps=4, warmup=2, repeats=1, packed=2, preset="tiny"),
}
_SPEED_DEFAULT = dict(steps=400, warmup=30, repeats=3, packed=5, preset="default")


def parse_budget(text: str) -> float:
    """``--budget``: seconds from "40s", "8m", "1.5h" or "90" (seconds), or a one-line UserError."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise UserError(f"--budget: a positive time such as 40s, 8m or 1h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


class Deadline:
    """The end of the budget (``time.monotonic()``)."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise BudgetSpent(f"the time budget is spent before {what}")


@contextmanager
def hard_cut(deadline: Deadline):
    """At the deadline, :class:`~genzoo.errors.BudgetSpent` in the main thread (``SIGALRM``): the
    run in progress is cut as Ctrl-C would cut it (no record; the next call redoes it)."""
    def on_alarm(signum, frame):
        raise BudgetSpent("the time budget is spent: the run in progress is cut (not recorded)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(deadline.left(), 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m genzoo.gpu",
        description=(sys.modules[__package__].__doc__ or "").split("\n\n")[0],
        epilog="Parts, in order: profiles (every benchmark whose data is here), speed (genzoo speed's tables), "
               "sweeps (the benchmarks' [sweeps.PROFILE] trials). Runs with a record are skipped: call it again "
               f"to continue (exit status {EXIT_BUDGET}: the budget ran out first).")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="folder of the four Fashion-MNIST .gz files (train/t10k images/labels); other file-backed "
                        "datasets in genzoo's layouts (MNIST/raw/, cifar-10-batches-py/, celeba/) are used when there")
    p.add_argument("--out", required=True, metavar="DIR", help="where records and tables go (and are resumed from)")
    p.add_argument("--budget", required=True, help="time this call may take: 40s, 8m, 1h (no run starts after it; "
                                                   "the run in progress at its end is cut and redone next call)")
    p.add_argument("--profile", default="paper",
                   help="the benchmarks' profile and sweep (default paper; tiny: a smoke test)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cuda, cuda:N, cpu")
    p.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                   help="the bench's --compile (auto: compiled on CUDA for fits of 1,000 steps or more)")
    p.add_argument("--pack", choices=("auto", "on", "off"), default="auto", help="the bench's --pack (auto: on CUDA)")
    p.add_argument("--parts", default=",".join(PARTS), metavar="A,B", help=f"parts to do (default {','.join(PARTS)})")
    p.add_argument("--benchmarks", default="all", metavar="A,B",
                   help=f"benchmarks (default all whose data is here, {', '.join(FIRST)} first)")
    p.add_argument("--speed-models", default=",".join(SPEED_MODELS), metavar="A,B",
                   help=f"models genzoo speed measures (default {','.join(SPEED_MODELS)})")
    p.add_argument("--cache", metavar="DIR", help="genzoo's cache (evaluators, reference statistics; default "
                                                  "$GENZOO_CACHE, else OUT/.cache: kept with the records)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        seconds = parse_budget(args.budget)
        parts = _names(args.parts, PARTS, "--parts")
        speed_models = _names(args.speed_models, _model_names(), "--speed-models")
        data = Path(args.data).resolve()
        if not data.is_dir():
            raise UserError(f"--data {args.data}: no such folder (give the folder of Fashion-MNIST's four .gz files)")
    except UserError as exc:
        print(f"genzoo.gpu: {exc}", file=sys.stderr)
        return 2
    deadline = Deadline(seconds)
    out = Path(args.out)
    os.environ["GENZOO_DATA"] = str(data)                       # every loader reads here, and only here
    if args.cache or "GENZOO_CACHE" not in os.environ:
        os.environ["GENZOO_CACHE"] = str(Path(args.cache or out / ".cache").resolve())
    study = Study(out, args.profile, args.device, args.compile, args.pack, args.quiet, deadline, speed_models)
    t0 = time.monotonic()
    try:
        with hard_cut(deadline):
            benches = study.benchmarks(args.benchmarks)
            for part in parts:
                getattr(study, part)(benches)
    except BudgetSpent as exc:
        study.say(f"genzoo.gpu: {exc} after {time.monotonic() - t0:.0f} s; what is recorded under {out} is kept: "
                  f"run the same command again to continue")
        return EXIT_BUDGET
    except UserError as exc:
        print(f"genzoo.gpu: {exc}", file=sys.stderr)
        return 2
    study.say(f"genzoo.gpu: done in {time.monotonic() - t0:.0f} s ({', '.join(parts)}; "
              f"{len(study.failed)} benchmark(s) failed{': ' + ', '.join(study.failed) if study.failed else ''})")
    return 1 if study.failed else 0


def _model_names() -> list[str]:
    import genzoo

    return genzoo.list_models()


def _names(text: str, known, what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise UserError(f"{what}: unknown {', '.join(bad) or '(none given)'}; choose from {', '.join(known)}")
    return names


class Study:
    """The three parts (:data:`PARTS`), each skipping what ``out`` already holds."""

    def __init__(self, out: Path, profile: str, device: str, compile: str, pack: str, quiet: bool,
                 deadline: Deadline, speed_models=SPEED_MODELS):
        self.speed_models = list(speed_models)
        self.out, self.profile, self.device, self.compile, self.pack = out, profile, device, compile, pack
        self.quiet, self.deadline = quiet, deadline
        self.failed: list[str] = []

    def say(self, line: str) -> None:
        print(line, flush=True)

    def benchmarks(self, wanted: str) -> list:
        """The benchmarks to run, in order (:data:`FIRST`, then the others), with the profile and
        whose data loads from ``--data`` (or is generated); the others said in one line each."""
        from ..bench import list_benchmarks, load_benchmark

        known = list(list_benchmarks())
        order = [n for n in FIRST if n in known] + sorted(n for n in known if n not in FIRST)
        names = order if wanted == "all" else _names(wanted, order, "--benchmarks")
        benches = []
        for name in names:
            bench = load_benchmark(name)
            why = (f"no profile {self.profile!r}" if self.profile not in bench.profiles
                   else _data_missing(bench.dataset))
            if why:
                self.say(f"genzoo.gpu: {name} skipped: {why}")
            else:
                benches.append(bench)
        return benches

    def _run_kw(self) -> dict:
        return dict(device=self.device, quiet=self.quiet, wandb=False, pack=self.pack, compile=self.compile,
                    deadline=self.deadline.at)

    def _each(self, what: str, fn) -> None:
        try:
            fn()
        except UserError as exc:                     # the machine failed (lost runs), bad data: say, go on
            self.say(f"genzoo.gpu: {what}: {exc}")
            self.failed.append(what)

    def profiles(self, benches: list) -> None:
        from ..bench import run_benchmark

        for bench in benches:
            self.deadline.check(f"{bench.name}'s profile {self.profile}")
            self.say(f"genzoo.gpu: {bench.name}, profile {self.profile} ({self.deadline.left():.0f} s left)")
            self._each(bench.name, lambda: run_benchmark(bench, profile=self.profile, out=self.out,
                                                                     comparison=False, **self._run_kw()))

    def speed(self, benches: list) -> None:
        """genzoo speed's rows of ``--speed-models`` (:data:`SPEED_MODELS`), one model at a time (kept in
        ``OUT/speed/<device>.rows.json``), then the table."""
        from .. import speed
        from .._io import write_text

        settings = _SPEED.get(self.profile, _SPEED_DEFAULT)
        label = speed.device_label() if self.device in ("auto", "cuda") or self.device.startswith("cuda") else "cpu"
        folder = self.out / "speed"
        rows_file = folder / f"{label}.rows.json"
        rows = json.loads(rows_file.read_text()) if rows_file.is_file() else {}
        for model in self.speed_models:
            if model in rows:
                continue
            self.deadline.check(f"genzoo speed's {model}")
            self.say(f"genzoo.gpu: speed, {model} ({self.deadline.left():.0f} s left)")
            measured = speed.measure([model], device=self.device, compile=self._speed_compiles(),
                                     progress=not self.quiet, **settings)
            rows[model] = measured[0] if measured else None
            write_text(rows_file, json.dumps(rows, indent=1))
        table = [r for r in (rows[m] for m in self.speed_models) if r]
        md = folder / f"{label}.md"
        if table and not md.is_file():
            speed.write(table, folder, note=f"`python -m genzoo.gpu --profile {self.profile}`: {settings}.")
            self.say(f"genzoo.gpu: written {md}")

    def _speed_compiles(self) -> bool:
        """Whether genzoo speed times the compiled fits too: ``--compile`` on, or auto on CUDA."""
        from ..bench import resolve_device
        from ..training.compile import resolve_compile

        return resolve_compile(self.compile, resolve_device(self.device))

    def sweeps(self, benches: list) -> None:
        from ..sweep.run import run_sweep

        for bench in benches:
            if self.profile not in bench.sweeps:
                continue
            self.deadline.check(f"{bench.name}'s sweep {self.profile}")
            self.say(f"genzoo.gpu: {bench.name}, sweep {self.profile} ({self.deadline.left():.0f} s left)")
            self._each(f"{bench.name} sweep", lambda: run_sweep(bench, sweep=self.profile, out=self.out,
                                                               **self._run_kw()))


def _data_missing(dataset: str) -> str | None:
    """Why ``dataset`` cannot be loaded here (its files are not where ``GENZOO_DATA`` points), in
    one line, or None (it loads: files found, or generated)."""
    import genzoo.data

    info = genzoo.data.dataset_info(dataset)
    options = {}
    if "download" in info.options:
        options["download"] = False                              # a bare machine has no network
    if "n" in info.options:
        options["n"] = 16                                        # a generated set: a few items prove it loads
    try:
        genzoo.data.load(dataset, split="train", **options)
    except Exception as exc:          # noqa: BLE001 - any failure to load is "no data here", said in one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"its data ({dataset}) does not load here: {first}"
    return None
