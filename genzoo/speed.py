"""``genzoo speed``: how fast genzoo trains, measured side by side with a plain PyTorch loop.

A benchmark, not a test: for each model it trains the same networks with the same losses and
optimizers for a fixed number of steps in several ways, interleaved (plain, genzoo, ..., plain,
genzoo, ...) so that a busy machine slows them alike:

- **plain**: the loop of pytorch/examples' DCGAN: a ``DataLoader`` over the training tensors
  (shuffled, batches moved to the device one by one), ``zero_grad`` / ``backward`` / ``step`` for
  each optimizer update, and every logged value read with ``.item()`` at every step;
- **genzoo**: ``model.fit`` (the data on the device once, batches gathered there, values read back
  every ``log_interval`` steps);
- **compiled** (``--compile``): ``model.fit(compile=True)``, each update compiled
  (:mod:`genzoo.training.compile`; CUDA graphs on a GPU);
- **packed**: ``genzoo.fit_seeds`` training N seeds in one process, whose images/s count every
  seed's images; with ``--compile`` also **packed compiled** (``fit_seeds(compile=True)``).

Each measurement is the time of ``steps`` steps after ``warmup`` steps of one fit, taken where
the fit reads its values back (the device is then synchronized): setup, first-step allocations
and compilation (the first steps of a compiled fit) are left out. The table gives the median
over repeats: generator steps/s, training images/s (real images the discriminator or encoder
saw, of every seed when packed) and the ratios (genzoo / plain; compiled / genzoo; packed /
genzoo one seed). On a CUDA device it also gives the GPU's utilisation during each timed stretch
(the mean of ``torch.cuda.utilization()`` sampled every 50 ms; "not measured" where torch cannot
read it: it needs the ``pynvml`` package).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:        # torch is imported inside the functions that use it: `genzoo --help` does not load it
    import torch

DEFAULT_OUT = Path("results") / "speed"
DEFAULT_DATASET = "fashion-mnist"     # the data measured unless --dataset says otherwise (its files carry no suffix)
LABELS = ("plain", "genzoo", "compiled", "packed", "packed_compiled")   # the ways a model is trained, in order


class _LoaderContext:
    """What a model's losses draw from, fed by a ``DataLoader`` the way a plain loop is: the next
    batch of the loader moved to the device and converted there (``prepare``: stored pixels to the
    model's scale, as a plain loop's transform does per batch), noise from the global RNG."""

    def __init__(self, loader, device, batch_size, prepare=lambda x: x):
        self.loader, self.device, self.batch_size, self.prepare = loader, device, batch_size, prepare
        self._it = iter(loader)
        self.step = 0
        self.batches_drawn = 0

    def next_batch(self):
        try:
            x, y = next(self._it)
        except StopIteration:
            self._it = iter(self.loader)
            x, y = next(self._it)
        self.batches_drawn += 1
        return self.prepare(x.to(self.device, non_blocking=True)), y.to(self.device, non_blocking=True)

    def randn(self, *shape):
        import torch

        return torch.randn(*shape, device=self.device)

    def randint(self, high, *shape):
        import torch

        return torch.randint(high, shape, device=self.device)

    def rand(self, *shape):
        import torch

        return torch.rand(*shape, device=self.device)


class StepClock:
    """The time of the steps after ``start`` up to ``stop`` of one fit, taken where the loop reads
    the values back (a ``fit`` callback that asks to see those two steps as they happen; the
    plain loop calls :meth:`at` itself), and on CUDA the GPU's mean utilisation meanwhile."""

    def __init__(self, start: int, stop: int, device):
        self.start, self.stop, self.device = start, stop, device
        self.t0 = self.seconds = None
        self.util = _Utilization(device)

    def sync_steps(self, total_steps: int):
        return {self.start, self.stop}

    def on_step_end(self, model, step: int, record) -> None:
        self.at(step)

    def at(self, step: int) -> None:
        if step == self.start:
            _synchronize(self.device)
            self.t0 = time.perf_counter()
            self.util.begin()
        elif step == self.stop and self.t0 is not None:
            _synchronize(self.device)
            self.seconds = max(time.perf_counter() - self.t0, 1e-9)
            self.util.end()


class _Utilization:
    """The mean of ``torch.cuda.utilization(device)`` sampled every 50 ms in a thread between
    :meth:`begin` and :meth:`end` (None on a CPU, or when torch cannot read it: ``why`` says so)."""

    def __init__(self, device):
        self.device, self.samples, self.why = device, [], None
        self._stop = threading.Event()
        self._thread = None
        if getattr(device, "type", str(device)) != "cuda":
            self.why = "not a CUDA device"

    def begin(self) -> None:
        if self.why is not None:
            return
        import torch

        try:
            self.samples.append(float(torch.cuda.utilization(self.device)))
        except Exception as exc:            # no pynvml (or amdsmi): torch cannot read it
            self.why = f"not measured (torch.cuda.utilization: {type(exc).__name__}: {exc})"
            return
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        import torch

        while not self._stop.wait(0.05):
            try:
                self.samples.append(float(torch.cuda.utilization(self.device)))
            except Exception:
                return

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.samples) if self.samples and self.why is None else None


def _synchronize(device) -> None:
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        torch.cuda.synchronize(device)


def plain_fit(model, data, *, steps: int, seed: int, device: torch.device, clock: StepClock | None = None) -> int:
    """Train ``model`` for ``steps`` generator steps with the plain loop; returns the real items
    seen (``clock``: told each step as it ends)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from .data import as_float
    from .training.loop import run_updates

    torch.manual_seed(seed)
    model.setup(data.shape, data.num_classes, seed, device, data_name=data.name)
    x = data.x                                                     # as stored (uint8 images stay uint8)
    loader = DataLoader(TensorDataset(x, data.y), batch_size=min(model.config.batch_size, len(x)), shuffle=True,
                        drop_last=True)
    optimizers = model.configure_optimizers()
    updates = model.updates()
    ctx = _LoaderContext(loader, device, loader.batch_size, lambda b: model.to_model_scale(as_float(b)))
    model.nets_.train()
    for step in range(1, steps + 1):
        ctx.step = step
        for value in run_updates(updates, optimizers, ctx).values():
            value.item()                                           # a host read of every value, every step
        if clock is not None:
            clock.at(step)
    return ctx.batches_drawn * loader.batch_size


def _genzoo_fit(compile: bool = False):
    """``model.fit`` (compiled or not), as a :func:`_timed` function."""
    def fit(model, data, *, steps: int, seed: int, device: torch.device, clock: StepClock) -> int:
        import dataclasses

        model.config = dataclasses.replace(model.config, max_steps=steps)
        model.fit(data, seed=seed, device=device, callbacks=[clock], compile=compile)
        return model.items_seen_
    return fit


def _packed_fit(seeds: int, compile: bool = False):
    """genzoo.fit_seeds of ``seeds`` seeds, as a :func:`_timed` function (items of all seeds)."""
    def fit(model, data, *, steps: int, seed: int, device: torch.device, clock: StepClock) -> int:
        import dataclasses

        import genzoo

        model.config = dataclasses.replace(model.config, max_steps=steps)
        callbacks = [[clock]] + [[] for _ in range(seeds - 1)]
        return sum(m.items_seen_ for m in genzoo.fit_seeds(model, data, seeds=list(range(seed, seed + seeds)),
                                                           device=device, callbacks=callbacks, compile=compile))
    return fit


def _timed(fn, name: str, data, *, warmup: int, steps: int, device, preset: str = "default"):
    """Seconds and items of ``steps`` steps after ``warmup`` steps of one fit, and the GPU's mean
    utilisation meanwhile (None where not measured)."""
    import genzoo

    model = genzoo.get_model(name, preset=preset)
    clock = StepClock(warmup, warmup + steps, device)
    items = fn(model, data, steps=warmup + steps, seed=0, device=device, clock=clock)
    per_step = items / (warmup + steps)                # every step shows as many items
    return clock.seconds, per_step * steps, clock.util.mean, clock.util.why


def measure(models: list[str], *, steps: int = 40, warmup: int = 5, repeats: int = 3, device: str = "auto",
            train_items: int = 10_000, preset: str = "default", progress: bool = True, packed: int = 3,
            dataset: str = DEFAULT_DATASET, data_dir: str | None = None, compile: bool = False) -> list[dict]:
    """One row per model: steps/s and images/s of the plain loop, of genzoo (one seed), with
    ``compile`` of genzoo compiled, and of genzoo with ``packed`` seeds in one process
    (``fit_seeds``; 0: not measured; with ``compile`` also compiled), medians over ``repeats``
    interleaved rounds; the ratios (genzoo / plain, compiled / genzoo, packed images/s over one
    seed's) and, on CUDA, the GPU's mean utilisation during each. ``data_dir``: where the
    dataset's files are (its loader's ``data_dir=``; refused in one line for data that is generated)."""
    import torch
    from tqdm.auto import tqdm

    import genzoo

    from .models.base import resolve_device

    try:
        dev = resolve_device(device)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    from .bench.data import check_options

    options = {} if data_dir is None else {"data_dir": str(data_dir)}
    check_options(dataset, options, "--data-dir")
    try:
        data = genzoo.data.load(dataset, split="train", **options).subset(train_items, seed=0)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    models = [m for m in models if genzoo.get_model(m, preset=preset).supports(data)]
    rows = []
    bar = tqdm(total=len(models) * repeats, desc="genzoo speed", unit="round", disable=not progress or None)
    for name in models:
        fns = {"plain": plain_fit, "genzoo": _genzoo_fit()}
        no_compile = _not_compilable(name, preset) if compile else "not measured"
        if no_compile is None:
            fns["compiled"] = _genzoo_fit(compile=True)
        why_not = _not_packable(name, data, preset) if packed else "not measured"
        if why_not is None:
            fns["packed"] = _packed_fit(packed)
            if no_compile is None:
                fns["packed_compiled"] = _packed_fit(packed, compile=True)
        timings = {label: [] for label in fns}
        items, utils = {}, {label: [] for label in fns}
        util_why = None
        for _ in range(repeats):
            for label, fn in fns.items():
                t, n, util, why = _timed(fn, name, data, warmup=warmup, steps=steps, device=dev, preset=preset)
                timings[label].append(t)
                items[label] = n
                if util is not None:
                    utils[label].append(util)
                util_why = util_why or why
            bar.update(1)
        row = {"model": name, "dataset": dataset, "preset": preset, "device": str(dev), "steps": steps,
               "repeats": repeats,
               "threads": torch.get_num_threads(), "packed_seeds": packed if why_not is None else 0,
               "packed_note": why_not or "", "compile_note": no_compile or ""}
        for label in LABELS:
            if label not in timings:
                row[f"{label}_steps_per_s"] = row[f"{label}_images_per_s"] = row[f"{label}_gpu_util"] = None
                continue
            t = statistics.median(timings[label])
            row[f"{label}_steps_per_s"] = steps / t
            row[f"{label}_images_per_s"] = items[label] / t
            row[f"{label}_gpu_util"] = statistics.median(utils[label]) if utils[label] else None
        row["gpu_util_note"] = "" if dev.type != "cuda" else (util_why or "")
        one = row["genzoo_images_per_s"]
        row["ratio"] = row["genzoo_steps_per_s"] / row["plain_steps_per_s"]
        row["compiled_ratio"] = row["compiled_steps_per_s"] / row["genzoo_steps_per_s"] \
            if row["compiled_steps_per_s"] else None
        row["packed_ratio"] = row["packed_images_per_s"] / one if row["packed_images_per_s"] else None
        row["packed_compiled_ratio"] = (row["packed_compiled_images_per_s"] / one
                                        if row["packed_compiled_images_per_s"] else None)
        rows.append(row)
    bar.close()
    return rows


def _not_packable(name: str, data, preset: str) -> str | None:
    """Why ``fit_seeds`` refuses this model on ``data`` (its first line), or None."""
    import genzoo

    from .training.packed import check_packable

    try:
        check_packable(genzoo.get_model(name, preset=preset), data)
    except ValueError as exc:
        return str(exc).split(": ", 1)[-1]
    return None


def _not_compilable(name: str, preset: str) -> str | None:
    """Why this model's fit is not compiled (it declares it), or None."""
    import genzoo

    return genzoo.get_model(name, preset=preset).compile_refusal()


def device_label() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda-" + torch.cuda.get_device_name(0).lower().replace(" ", "-")
    return "cpu"


def _num(v, fmt: str) -> str:
    return "–" if v is None else format(v, fmt)


def _util(v) -> str:
    return "" if v is None else f" ({v:.0f}%)"


def to_markdown(rows: list[dict], *, note: str = "") -> str:
    dev = rows[0]["device"] if rows else "?"
    compiled = any(r.get("compiled_steps_per_s") or r.get("compile_note") not in ("", "not measured", None)
                   for r in rows)
    cuda = any(str(r.get("device", "")).startswith("cuda") for r in rows)
    out = [f"# genzoo speed on {dev}", "",
           f"Each model trained for {rows[0]['steps'] if rows else '?'} generator steps after a warm-up, in a plain "
           "PyTorch loop (DataLoader, zero_grad/backward/step, `.item()` every step) and with genzoo's `fit`"
           + (" (eager, and compiled: `fit(compile=True)`)" if compiled else "") +
           f", interleaved; medians of {rows[0]['repeats'] if rows else '?'} rounds, {rows[0]['threads'] if rows else '?'} "
           f"torch threads. {rows[0]['dataset'] if rows else '?'}, the {rows[0]['preset'] if rows else '?'} presets. "
           "Each time is that of the steps after the warm-up within one fit (compilation left out). Ratio = genzoo / plain "
           "(above 1: genzoo is faster). Packed: `genzoo.fit_seeds` with "
           f"{max((r['packed_seeds'] for r in rows), default=0)} seeds in one process; its images/s count every seed's "
           "images, and packed / one seed (genzoo eager) above 1 means packing trains more per second than one seed at "
           "a time." + (" In parentheses: the GPU's mean utilisation while timed (`torch.cuda.utilization()`)."
                        if cuda else ""), ""]
    notes = sorted({r.get("gpu_util_note") for r in rows if r.get("gpu_util_note")})
    if note:
        out += [note, ""]
    if cuda and notes:
        out += ["GPU utilisation " + "; ".join(notes), ""]
    head = ["model", "plain steps/s", "plain images/s", "genzoo steps/s", "genzoo images/s", "genzoo / plain"]
    if compiled:
        head += ["compiled steps/s", "compiled / genzoo"]
    head += ["packed images/s", "packed / one seed"]
    if compiled:
        head += ["packed compiled images/s", "packed compiled / one seed"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], _num(r["plain_steps_per_s"], ".1f"), _num(r["plain_images_per_s"], ".0f"),
                 _num(r["genzoo_steps_per_s"], ".1f") + _util(r.get("genzoo_gpu_util")),
                 _num(r["genzoo_images_per_s"], ".0f"), _num(r["ratio"], ".2f")]
        if compiled:
            if r.get("compiled_steps_per_s"):
                cells += [_num(r["compiled_steps_per_s"], ".1f") + _util(r.get("compiled_gpu_util")),
                          _num(r["compiled_ratio"], ".2f")]
            else:
                cells += [f"– ({r.get('compile_note') or 'not measured'})", "–"]
        if r.get("packed_images_per_s"):
            cells += [_num(r["packed_images_per_s"], ".0f") + _util(r.get("packed_gpu_util")),
                      _num(r["packed_ratio"], ".2f")]
        else:
            cells += [f"– ({r.get('packed_note') or 'not measured'})", "–"]
        if compiled:
            if r.get("packed_compiled_images_per_s"):
                cells += [_num(r["packed_compiled_images_per_s"], ".0f") + _util(r.get("packed_compiled_gpu_util")),
                          _num(r["packed_compiled_ratio"], ".2f")]
            else:
                cells += ["–", "–"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def write(rows: list[dict], out: Path, note: str = "") -> tuple[Path, Path]:
    import csv
    import io

    from ._io import write_text

    label = device_label()
    dataset = rows[0].get("dataset", DEFAULT_DATASET) if rows else DEFAULT_DATASET
    if dataset != DEFAULT_DATASET:                 # the default data's files keep their plain names
        label += f"-{dataset}"
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return (write_text(out / f"{label}.md", to_markdown(rows, note=note)),
            write_text(out / f"{label}.csv", buf.getvalue()))


DESCRIPTION = """\
How fast genzoo trains, measured side by side with a plain PyTorch loop (a benchmark, not a test).

For each model, the same networks, losses and optimizers are trained for a fixed number of steps
in two ways, interleaved (plain, genzoo, plain, genzoo, ...) so that a busy machine slows both alike:

  plain   the loop of pytorch/examples' DCGAN: a DataLoader over the training tensors, batches
          moved to the device one by one, zero_grad/backward/step for each update, and every
          logged value read with .item() at every step;
  genzoo  model.fit: the data on the device once, batches gathered there, values read back
          every log_interval steps;
  compiled  (--compile) model.fit(compile=True): each update compiled with torch.compile
          (CUDA graphs on a GPU);
  packed  genzoo.fit_seeds training N seeds in one process (its images/s count every seed's);
          with --compile also packed compiled (fit_seeds(compile=True)).

Each measurement is the time of the steps after the warm-up steps within one fit, taken where the
loop reads its values back (setup and compilation left out). The table gives medians over the
repeats: generator steps/s, training images/s, genzoo's ratio to the plain loop, compiled's to
genzoo eager, packed's to one seed, and on CUDA the GPU's mean utilisation while timed
(torch.cuda.utilization(), which needs pynvml: else "not measured"). Writes
DIR/<device>[-<dataset>].md and .csv."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "speed", help="measure training speed against a plain PyTorch loop (a benchmark, not a test)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="all", metavar="A,B", help="models to measure (default: all)")
    p.add_argument("--steps", type=int, default=40, help="timed generator steps per fit (default 40)")
    p.add_argument("--warmup", type=int, default=5, help="steps of each fit before the timed ones (default 5)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds per model (default 3)")
    p.add_argument("--compile", action="store_true",
                   help="also time the compiled fits (fit(compile=True), and fit_seeds(compile=True) with --packed)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--preset", default="default", help="model preset (default: default; tiny for a smoke test)")
    p.add_argument("--dataset", default=DEFAULT_DATASET,
                   help=f"training data (default {DEFAULT_DATASET}; ring: the 2-D MLPs, whose steps are launch-bound)")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="where the dataset's files are (its loader's data_dir=)")
    p.add_argument("--packed", type=int, default=3, metavar="N",
                   help="also time genzoo.fit_seeds with N seeds in one process (default 3; 0: do not)")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                   help="writes DIR/<device>[-<dataset>].md and .csv (default results/speed)")
    p.add_argument("--note", default="", help="a line for the table's header (the machine, its load)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import genzoo

    models = genzoo.list_models() if args.models == "all" else [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in genzoo.list_models()]
    if unknown:
        raise UserError(f"unknown model(s) {unknown}; choose from {genzoo.list_models()}")
    for flag in ("steps", "warmup", "repeats"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag} must be >= 1")
    if args.packed < 0:
        raise UserError("--packed must be >= 0")
    rows = measure(models, steps=args.steps, warmup=args.warmup, repeats=args.repeats, device=args.device,
                   preset=args.preset, packed=args.packed, dataset=args.dataset, data_dir=args.data_dir,
                   compile=args.compile)
    md, csv_path = write(rows, Path(args.out), note=args.note)
    print(md.read_text())
    print(f"written: {md}, {csv_path}")
    return 0
