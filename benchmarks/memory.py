"""Peak host memory of a fit on a large image set: images kept as uint8, against the same set held
as float32 (how genzoo held every image set before issue #25). A benchmark, not a test.

    python benchmarks/memory.py                      # 160,000 x 3 x 64 x 64 (CelebA 64x64's size)
    python benchmarks/memory.py --n 40000 --steps 5  # a quicker look

Each case runs in a fresh Python process (so one case's allocations cannot hide in another's
peak), one after the other in the same run. A case is how the set is held and which DCGAN fits it:

- ``uint8/default``: the set generated as uint8 (N, 3, 64, 64) pixels (random, class-free: memory
  does not depend on what the pixels show), wrapped in a ``genzoo.data.Dataset`` and fitted as it
  is by genzoo's DCGAN at its default preset (the paper's 64x64 DCGAN, built from the data's shape:
  1,024 feature maps at 4x4, ~12M parameters in G and ~11M in D, Adam);
- ``float32/default``: the same set converted once with ``genzoo.data.as_float`` (the uint8 copy
  then dropped) and fitted: the float copy of the whole set that genzoo used to make;
- ``uint8/tiny``: the uint8 set fitted by the tiny preset (width 8): what the data costs when
  the networks cost almost nothing.

Each fit runs ``--steps`` generator steps on the CPU. A sampler thread reads the process's
resident memory (``/proc/self/statm``) every 20 ms; the peak is the larger of its largest reading
and ``getrusage``'s ``ru_maxrss``. Writes ``<out>/memory.md`` (the table, the float32 / uint8
ratio measured side by side), ``memory.csv`` and ``memory.png`` (resident memory over the run of
each case, with the set's size and the 2.5 GB bar). Sizes are GiB (2^30 bytes), written "GB". Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

GB = 1024 ** 3                  # "GB" in this file's output is GiB (2^30 bytes)
LIMIT_GB = 2.5                  # issue #25: a fit on 160,000 x 3 x 64 x 64 under 2.5 GB of host memory
SIDE, CHANNELS = 64, 3


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Sampler(threading.Thread):
    """Reads resident memory every ``every`` seconds: [(seconds since start, bytes, phase)]."""

    def __init__(self, every: float = 0.02):
        super().__init__(daemon=True)
        self.every, self.t0, self.phase = every, time.perf_counter(), "start"
        self.samples: list[tuple[float, int, str]] = []
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            self.samples.append((time.perf_counter() - self.t0, _rss_bytes(), self.phase))
            self._done.wait(self.every)

    def stop(self):
        self._done.set()
        self.join()
        self.samples.append((time.perf_counter() - self.t0, _rss_bytes(), self.phase))


def child(case: str, n: int, steps: int, preset: str, out: Path) -> None:
    """One case, in this (fresh) process: writes ``<out>/<case>.json``."""
    sampler = _Sampler()
    sampler.start()
    import torch

    import genzoo
    from genzoo.data import Dataset, as_float

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    sampler.phase = "imports"
    baseline = _rss_bytes()
    sampler.phase = "data"
    g = torch.Generator().manual_seed(0)
    x = torch.empty(n, CHANNELS, SIDE, SIDE, dtype=torch.uint8)
    for i in range(0, n, 10_000):                    # in chunks: no int64 temporary of the whole set
        x[i:i + 10_000] = torch.randint(0, 256, x[i:i + 10_000].shape, generator=g, dtype=torch.uint8)
    if case == "float32":
        x = as_float(x)                               # the float copy; the uint8 set is freed here
    data = Dataset("generated-64", x, torch.zeros(n, dtype=torch.long), 1, ("all",))
    del x
    data_bytes = data.x.element_size() * data.x.nelement()
    sampler.phase = "fit"
    t = time.perf_counter()
    model = genzoo.get_model("dcgan", preset, max_steps=steps, epochs=1.0).fit(data, seed=0, device="cpu")
    fit_s = time.perf_counter() - t
    sampler.phase = "end"
    sampler.stop()
    peak = max(max(b for _, b, _ in sampler.samples), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    _write_json(out / f"{case}-{preset}-{n}.json", {
        "case": case, "n": n, "steps": steps, "preset": preset, "data_bytes": data_bytes, "baseline_bytes": baseline,
        "peak_bytes": peak, "fit_s": fit_s, "steps_done": len(model.history_),
        "samples": [(round(s, 3), b, p) for s, b, p in sampler.samples]})


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj))
    tmp.replace(path)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _figure(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    palette = iter(["tab:blue", "tab:red", "tab:green", "tab:gray", "tab:purple", "tab:orange"])
    for r in results:
        s, color = r["samples"], next(palette)
        ax.plot([t for t, _, _ in s], [b / GB for _, b, _ in s], color=color,
                label=f"{r['n']:,} images as {r['case']} ({r['data_bytes'] / GB:.2f} GB), {r['preset']} DCGAN: "
                      f"peak {r['peak_bytes'] / GB:.2f} GB")
        fit_start = next((t for t, _, p in s if p == "fit"), None)
        if fit_start is not None:
            ax.axvline(fit_start, color=color, lw=0.8, ls=":")
    ax.axhline(LIMIT_GB, color="black", lw=1, ls="--", label=f"{LIMIT_GB} GB (issue #25's bar)")
    n = max(r["n"] for r in results)
    ax.set_xlabel("seconds since the process started (dotted: the fit starts)")
    ax.set_ylabel("resident memory (GB)")
    ax.set_title(f"Host memory of a DCGAN fit on {n:,} x {CHANNELS} x {SIDE} x {SIDE} images "
                 f"({results[0]['steps']} steps, CPU; GB = GiB)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=160_000, help="images in the generated set (default 160,000)")
    p.add_argument("--steps", type=int, default=10, help="generator steps of the fit (default 10)")
    p.add_argument("--cases", default="uint8/default,float32/default,uint8/tiny,uint8/tiny@2000",
                   help="which cases, in order: HOLD/PRESET[@N], the set held as uint8 or float32, DCGAN's preset "
                        "(default: the paper's 64x64 DCGAN, 1,024 feature maps at 4x4; tiny: width 8), N images "
                        "instead of --n (default uint8/default,float32/default,uint8/tiny,uint8/tiny@2000: the "
                        "last one is the process without the data)")
    p.add_argument("--out", default="results/memory", help="output folder (default results/memory)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--preset", default="default", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    out = Path(a.out)
    if a.child:
        child(a.child, a.n, a.steps, a.preset, out / "raw")
        return 0
    if not Path("/proc/self/statm").exists():
        print("error: this benchmark reads /proc (Linux only)", file=sys.stderr)
        return 2
    results = []
    for case in [c.strip() for c in a.cases.split(",") if c.strip()]:
        case, _, n_text = case.partition("@")
        n = int(n_text) if n_text else a.n
        hold, _, preset = case.partition("/")
        preset = preset or "default"
        if hold not in ("uint8", "float32"):
            print(f"error: a case is uint8/PRESET or float32/PRESET, got {case!r}", file=sys.stderr)
            return 2
        print(f"{hold}, {preset} DCGAN: a fresh process fits it on {n:,} x {CHANNELS} x {SIDE} x {SIDE} ...",
              flush=True)
        subprocess.run([sys.executable, __file__, "--child", hold, "--n", str(n), "--steps", str(a.steps),
                        "--preset", preset, "--out", str(out)], check=True)
        r = json.loads((out / "raw" / f"{hold}-{preset}-{n}.json").read_text())
        results.append(r)
        print(f"  peak {r['peak_bytes'] / GB:.2f} GB (set {r['data_bytes'] / GB:.2f} GB, after imports "
              f"{r['baseline_bytes'] / GB:.2f} GB), fit {r['fit_s']:.1f} s", flush=True)
    rows = [{"case": r["case"], "preset": r["preset"], "n": r["n"], "set_gb": round(r["data_bytes"] / GB, 3),
             "after_imports_gb": round(r["baseline_bytes"] / GB, 3), "peak_gb": round(r["peak_bytes"] / GB, 3),
             "peak_minus_set_gb": round((r["peak_bytes"] - r["data_bytes"]) / GB, 3), "fit_s": round(r["fit_s"], 1)}
            for r in results]
    with open(out / "memory.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    _figure(results, out / "memory.png")
    lines = ["# Host memory of a fit on a large image set", "",
             f"Written by `python benchmarks/memory.py --n {a.n} --steps {a.steps} --cases {a.cases}` (each case a "
             f"fresh process, one after the other in one run) on {_cpu()}, {os.cpu_count()} logical CPUs, torch "
             f"{_torch_version()}. The fit: genzoo's DCGAN (networks built for 64x64 from the data's shape), "
             f"{a.steps} generator steps on the CPU. GB here are GiB (2^30 bytes). Peak = the largest resident "
             f"memory read every 20 ms or getrusage's maximum; 'after imports' = the process once torch and genzoo "
             f"are imported, before the data.", "",
             "| images | held as | DCGAN preset | set (GB) | after imports (GB) | peak (GB) | peak - set (GB) | fit (s) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['n']:,} | {r['case']} | {r['preset']} | {r['set_gb']:.2f} | {r['after_imports_gb']:.2f} | "
              f"{r['peak_gb']:.2f} | {r['peak_minus_set_gb']:.2f} | {r['fit_s']:.1f} |" for r in rows]
    lines.append("")
    full = [r for r in rows if r["n"] == a.n]
    for r in full:
        verdict = "under" if r["peak_gb"] < LIMIT_GB else "OVER"
        lines.append(f"- {r['case']} set, {r['preset']} DCGAN: the process peaks at {r['peak_gb']:.2f} GB, "
                     f"{verdict} the {LIMIT_GB} GB bar.")
    by = {(r["case"], r["preset"], r["n"]): r for r in rows}
    for r in full:
        f = by.get(("float32", r["preset"], r["n"]))
        if r["case"] == "uint8" and f is not None:
            lines.append(f"- {r['preset']} DCGAN, float32 / uint8 peak, measured side by side: "
                         f"{f['peak_gb'] / r['peak_gb']:.2f}x.")
        small = [s for s in rows if s["case"] == r["case"] and s["preset"] == r["preset"] and s["n"] < r["n"]]
        if small:
            s = small[0]
            lines.append(f"- {r['case']} set, {r['preset']} DCGAN: {r['n']:,} images cost "
                         f"{r['peak_gb'] - s['peak_gb']:.2f} GB more than {s['n']:,} (their sets differ by "
                         f"{r['set_gb'] - s['set_gb']:.2f} GB).")
    lines += ["", "![resident memory over the run](memory.png)", ""]
    (out / "memory.md").write_text("\n".join(lines))
    print("\n".join(lines[-(len(full) + 8):]))
    return 0


def _torch_version() -> str:
    import torch

    return torch.__version__


if __name__ == "__main__":
    sys.exit(main())
