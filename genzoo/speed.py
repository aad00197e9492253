"""``genzoo speed``: how fast genzoo trains, measured side by side with a plain PyTorch loop.

A benchmark, not a test: for each model it trains the same networks with the same losses and
optimizers for a fixed number of steps in two ways, interleaved (plain, genzoo, plain, genzoo,
...) so that a busy machine slows both alike:

- **plain**: the loop of pytorch/examples' DCGAN: a ``DataLoader`` over the training tensors
  (shuffled, batches moved to the device one by one), ``zero_grad`` / ``backward`` / ``step`` for
  each optimizer update, and every logged value read with ``.item()`` at every step;
- **genzoo**: ``model.fit`` (the data on the device once, batches gathered there, values read back
  every ``log_interval`` steps).

Each measurement is the wall time of a fit of ``warmup + steps`` steps minus that of a fit of
``warmup`` steps (setup, first-step allocations and the AE's code fit cancel out). The table gives
the median over repeats: generator steps/s, training images/s (real images the discriminator or
encoder saw) and genzoo's ratio to the plain loop; and, timed the same way, **packed**:
``genzoo.fit_seeds`` training N seeds in one process, whose images/s count every seed's images
(packed / one seed above 1: packing trains more per second than one seed at a time).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:        # torch is imported inside the functions that use it: `genzoo --help` does not load it
    import torch

DEFAULT_OUT = Path("results") / "speed"
DEFAULT_DATASET = "fashion-mnist"     # the data measured unless --dataset says otherwise (its files carry no suffix)


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


def plain_fit(model, data, *, steps: int, seed: int, device: torch.device) -> int:
    """Train ``model`` for ``steps`` generator steps with the plain loop; returns the real items seen."""
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
    return ctx.batches_drawn * loader.batch_size


def _genzoo_fit(model, data, *, steps: int, seed: int, device: torch.device) -> int:
    import dataclasses

    model.config = dataclasses.replace(model.config, max_steps=steps)
    model.fit(data, seed=seed, device=device)
    return model.items_seen_


def _packed_fit(seeds: int):
    """genzoo.fit_seeds of ``seeds`` seeds, as a ``_timed`` function (items of all seeds)."""
    def fit(model, data, *, steps: int, seed: int, device: torch.device) -> int:
        import dataclasses

        import genzoo

        model.config = dataclasses.replace(model.config, max_steps=steps)
        return sum(m.items_seen_ for m in genzoo.fit_seeds(model, data, seeds=list(range(seed, seed + seeds)),
                                                           device=device))
    return fit


def _timed(fn, name: str, data, *, warmup: int, steps: int, device, preset: str = "default") -> tuple[float, int]:
    """Seconds and items of ``steps`` steps after ``warmup`` (the difference of two fits)."""
    import torch

    import genzoo

    def run(n):
        model = genzoo.get_model(name, preset=preset)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        items = fn(model, data, steps=n, seed=0, device=device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - t, items

    t_short, i_short = run(warmup)
    t_long, i_long = run(warmup + steps)
    return max(t_long - t_short, 1e-9), i_long - i_short


def measure(models: list[str], *, steps: int = 40, warmup: int = 5, repeats: int = 3, device: str = "auto",
            train_items: int = 10_000, preset: str = "default", progress: bool = True, packed: int = 3,
            dataset: str = DEFAULT_DATASET, data_dir: str | None = None) -> list[dict]:
    """One row per model: steps/s and images/s of the plain loop, of genzoo (one seed) and of
    genzoo with ``packed`` seeds in one process (``fit_seeds``; 0: not measured), medians over
    ``repeats`` interleaved rounds; genzoo's ratio to the plain loop, and the packed seeds'
    images/s (all seeds together) over one seed's. ``data_dir``: where the dataset's files are (its
    loader's ``data_dir=``; refused in one line for data that is generated)."""
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
    bar = tqdm(total=len(models) * repeats, desc="genzoo speed", unit="pair", disable=not progress or None)
    for name in models:
        fns = [("plain", plain_fit), ("genzoo", _genzoo_fit)]
        why_not = _not_packable(name, data, preset) if packed else "not measured"
        if why_not is None:
            fns.append(("packed", _packed_fit(packed)))
        timings = {label: [] for label, _ in fns}
        items = {}
        for _ in range(repeats):
            for label, fn in fns:
                t, n = _timed(fn, name, data, warmup=warmup, steps=steps, device=dev, preset=preset)
                timings[label].append(t)
                items[label] = n
            bar.update(1)
        row = {"model": name, "dataset": dataset, "preset": preset, "device": str(dev), "steps": steps,
               "repeats": repeats,
               "threads": torch.get_num_threads(), "packed_seeds": packed if why_not is None else 0,
               "packed_note": why_not or ""}
        for label in ("plain", "genzoo", "packed"):
            if label not in timings:
                row[f"{label}_steps_per_s"] = row[f"{label}_images_per_s"] = None
                continue
            t = statistics.median(timings[label])
            row[f"{label}_steps_per_s"] = steps / t
            row[f"{label}_images_per_s"] = items[label] / t
        row["ratio"] = row["genzoo_steps_per_s"] / row["plain_steps_per_s"]
        row["packed_ratio"] = (row["packed_images_per_s"] / row["genzoo_images_per_s"]
                               if row["packed_images_per_s"] else None)
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


def device_label() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda-" + torch.cuda.get_device_name(0).lower().replace(" ", "-")
    return "cpu"


def to_markdown(rows: list[dict], *, note: str = "") -> str:
    dev = rows[0]["device"] if rows else "?"
    out = [f"# genzoo speed on {dev}", "",
           f"Each model trained for {rows[0]['steps'] if rows else '?'} generator steps after a warm-up, in a plain "
           "PyTorch loop (DataLoader, zero_grad/backward/step, `.item()` every step) and with genzoo's `fit`, "
           f"interleaved; medians of {rows[0]['repeats'] if rows else '?'} pairs, {rows[0]['threads'] if rows else '?'} "
           f"torch threads. {rows[0]['dataset'] if rows else '?'}, the default presets (batch 64; AE/VAE 128). "
           "Ratio = genzoo / plain "
           "(above 1: genzoo is faster). Packed: `genzoo.fit_seeds` with "
           f"{max((r['packed_seeds'] for r in rows), default=0)} seeds in one process; its images/s count every seed's "
           "images, and packed / one seed above 1 means packing trains more per second than one seed at a time.", ""]
    if note:
        out += [note, ""]
    out += ["| model | plain steps/s | plain images/s | genzoo steps/s | genzoo images/s | genzoo / plain "
            "| packed images/s | packed / one seed |",
            "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        packed = (f"{r['packed_images_per_s']:.0f} | {r['packed_ratio']:.2f}" if r.get("packed_images_per_s")
                  else f"– ({r.get('packed_note') or 'not measured'}) | –")
        out.append(f"| {r['model']} | {r['plain_steps_per_s']:.1f} | {r['plain_images_per_s']:.0f} | "
                   f"{r['genzoo_steps_per_s']:.1f} | {r['genzoo_images_per_s']:.0f} | {r['ratio']:.2f} | {packed} |")
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
  packed  genzoo.fit_seeds training N seeds in one process (its images/s count every seed's).

Each measurement is the wall time of a fit of warmup + steps steps minus that of a fit of warmup
steps. The table gives medians over the repeats: generator steps/s, training images/s and
genzoo's ratio to the plain loop. Writes DIR/<device>[-<dataset>].md and .csv."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "speed", help="measure training speed against a plain PyTorch loop (a benchmark, not a test)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="all", metavar="A,B", help="models to measure (default: all)")
    p.add_argument("--steps", type=int, default=40, help="timed generator steps per fit (default 40)")
    p.add_argument("--warmup", type=int, default=5, help="steps of the shorter fit subtracted (default 5)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved plain/genzoo pairs per model (default 3)")
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
                   preset=args.preset, packed=args.packed, dataset=args.dataset, data_dir=args.data_dir)
    md, csv_path = write(rows, Path(args.out), note=args.note)
    print(md.read_text())
    print(f"written: {md}, {csv_path}")
    return 0
