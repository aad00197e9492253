"""Reading run records: ``results/<benchmark>/runs/<run_id>/record.json`` and the files beside them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..bench.artifacts import finite_or_none
from ..bench.record import RunRecord

OK = "ok"

# Direction of the metrics genzoo is known to record, used only when the records do not say
# (the records' own ``higher_is_better`` always wins). ``None``: no better direction.
KNOWN_HIGHER_IS_BETTER = {
    "fid": False, "fid_inception": False, "fid_normal_prior": False, "kid": False,
    "kid_inception": False, "kl": False, "mode_kl": False, "kl_modes": False, "modes_kl": False,
    "is": True, "inception_score": True, "precision": True, "recall": True, "density": True,
    "coverage": True, "sharpness": None, "modes_covered": True, "high_quality": True,
    "high_quality_frac": True, "hq_frac": True, "label_accuracy": True,
}

# Metrics whose best value is a target rather than an extreme: sharpness is the samples' Laplacian
# variance over the real images', so 1.0 is as sharp as the data; below is blurrier, above is noisier
# (GAN artefacts), neither better.
TARGETS = {"sharpness": 1.0}

# Column order of the tables: these first (when present), then the rest alphabetically.
PREFERRED_ORDER = (
    "fid", "fid_inception", "kid", "is", "precision", "recall", "density", "coverage", "sharpness",
    "modes_covered", "high_quality_frac", "high_quality", "hq_frac", "kl_modes", "mode_kl", "kl",
    "label_accuracy", "fid_normal_prior",
)

_CLASS_FRAC = re.compile(r"^class_frac_(\d+)$")


PRIOR_SUFFIX = "_normal_prior"      # the runner's scores of the AE's N(0, I) decodes


def is_prior_metric(metric: str) -> bool:
    return metric.endswith(PRIOR_SUFFIX)


def is_class_frac(metric: str) -> bool:
    return _CLASS_FRAC.match(metric) is not None


def class_frac_index(metric: str) -> int:
    return int(_CLASS_FRAC.match(metric).group(1))



def finite_metrics(metrics: dict | None) -> dict[str, float]:
    """``{name: value}`` of the finite values of a record's metrics (a NaN or missing value counts
    as not measured)."""
    return {str(k): f for k, v in (metrics or {}).items() if (f := finite_or_none(v)) is not None}


@dataclass
class Run:
    """One run record and the folder it lies in."""

    run_id: str
    dir: Path
    record: RunRecord
    problems: list[str] = field(default_factory=list)   # set when the record could not be read

    @property
    def model(self) -> str:
        return str(self.record.model or self.run_id.rsplit("-s", 1)[0])

    @property
    def seed(self) -> int | None:
        s = self.record.seed
        if s is None:
            m = re.search(r"-s(\d+)$", self.run_id)
            return int(m.group(1)) if m else None
        try:
            return int(s)
        except (TypeError, ValueError):
            return None

    @property
    def status(self) -> str:
        return str(self.record.status or "unknown")

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def reason(self) -> str:
        r = self.record.reason
        return "" if r is None else str(r)

    @property
    def metrics(self) -> dict[str, float]:
        """The finite metric values (a NaN or missing value counts as not measured).

        A conditional model's ``label_accuracy``, when the record has no such metric, is derived as
        the mean of its ``per_class`` accuracies (the evaluator's accuracy on samples asked for class k).
        """
        out = finite_metrics(self.record.metrics)
        if "label_accuracy" not in out:
            accs = list(self.class_accuracies.values())
            if accs:
                out["label_accuracy"] = float(np.mean(accs))
        return out

    @property
    def items_seen(self) -> int | None:
        """The training items (images) its fit was shown (the record's ``train.items_seen``)."""
        v = (self.record.train or {}).get("items_seen")
        return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def metrics_after(self, items: int) -> dict[str, float] | None:
        """Its finite metrics after ``items`` training items: its final ones when its fit was
        shown that many, else those it was scored at on the way (the record's ``at_steps``, the
        runner key ``score_at_steps``) after that many; None when it has neither."""
        if self.items_seen == items:
            return self.metrics
        for row in self.record.at_steps or []:
            if isinstance(row, dict) and row.get("items_seen") == items:
                return finite_metrics(row.get("metrics"))
        return None

    @property
    def class_accuracies(self) -> dict[str, float]:
        """``{class name: accuracy}`` from the record's ``per_class`` (finite values only)."""
        return self.class_values("accuracy")

    def class_values(self, metric: str, real: bool = False) -> dict[str, float]:
        """``{class name: value}`` of ``metric`` from the record's ``per_class`` (finite values
        only): of the model's samples of each class, or with ``real=True`` of the real images of the
        class scored the same way (the entry's ``real``: the bar, see
        :func:`genzoo.bench.score.per_class_scores`)."""
        out = {}
        pc = self.record.per_class
        if not isinstance(pc, dict):
            return out
        for name, d in pc.items():
            if real and isinstance(d, dict):
                d = d.get("real")
            f = finite_or_none(d.get(metric) if isinstance(d, dict) else None)
            if f is not None:
                out[str(name)] = f
        return out

    def file(self, name: str) -> Path | None:
        p = self.dir / name
        return p if p.is_file() else None

    def sort_key(self):
        return (self.model, self.seed if self.seed is not None else 1 << 60, self.run_id)


@dataclass
class Benchmark:
    """All run records of one benchmark folder."""

    name: str
    dir: Path
    runs: list[Run]
    # run folders without a record: stopped before they finished, or being done now (run_id -> which)
    incomplete: dict[str, str] = field(default_factory=dict)

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    @property
    def not_ok_runs(self) -> list[Run]:
        return [r for r in self.runs if not r.ok]

    @property
    def dataset(self) -> str:
        """The dataset the runs trained on (the records' majority), else the one the benchmark file
        of this name declares (records too old to say), else ""."""
        names = [r.record.dataset for r in self.runs if r.record.dataset]
        if names:
            return str(max(set(names), key=names.count))
        return benchmark_file_dataset(self.name)

    @property
    def info(self):
        """The dataset's declaration (:class:`genzoo.data.DatasetInfo`), or None for a dataset no
        longer (or never) registered: then no claims, literature or mode counts apply."""
        from genzoo.data import find_info  # noqa: PLC0415

        return find_info(self.dataset) if self.dataset else None

    @property
    def dataset_title(self) -> str:
        """The dataset's name in prose ("Fashion-MNIST"): its declared title, else its name."""
        info = self.info
        return info.display_name if info is not None else (self.dataset or self.name)

    @property
    def is_mode_benchmark(self) -> bool:
        """Whether the dataset declares the mode-collapse claims (``"modes"`` in its ``claims``)."""
        info = self.info
        return info is not None and "modes" in info.claims

    @property
    def is_points(self) -> bool:
        """Whether the items are points (the image figures do not apply)."""
        info = self.info
        return info is not None and info.kind == "points"

    @property
    def is_mixture(self) -> bool:
        """Whether the modes are the components of a mixture of points (``mode_count == "points"``:
        the samples are drawn over the mixture's means, read from the data's ``meta``)."""
        info = self.info
        return info is not None and info.mode_count == "points"

    @property
    def modes_total(self) -> int | None:
        """How many modes the mode metrics count (the declaration's ``modes``), None: not declared."""
        info = self.info
        return info.modes if info is not None else None

    @property
    def num_classes(self) -> int | None:
        """The dataset's classes: its declaration's, else as many as the records' class histogram
        (``class_frac_k``) or per-class scores name; None when nothing says."""
        info = self.info
        if info is not None and info.num_classes is not None:
            return info.num_classes
        fracs = {m for r in self.runs for m in r.metrics if is_class_frac(m)}
        per_class = max((len(r.record.per_class) for r in self.runs if isinstance(r.record.per_class, dict)),
                        default=0)
        return max(len(fracs), per_class) or None

    def class_names(self, k: int | None = None) -> list[str]:
        """The names of the dataset's ``k`` classes (default: all of them): the declared names when
        the declaration has ``k``, else the numbers 0..k-1."""
        k = self.num_classes if k is None else k
        if k is None:
            return []
        info = self.info
        if info is not None and len(info.class_names) == k:
            return list(info.class_names)
        return [str(i) for i in range(k)]

    @property
    def models(self) -> list[str]:
        """Every model with at least one record, in first-seen order of the sorted runs."""
        return list(dict.fromkeys(r.model for r in self.runs))

    def family(self, family: str) -> list[str]:
        """The models of this benchmark (with records) whose declared family is ``family``."""
        return [m for m in self.models if declared(m, "family") == family]

    def runs_of(self, model: str, ok_only: bool = True) -> list[Run]:
        return [r for r in self.runs if r.model == model and (r.ok or not ok_only)]

    def first_run(self, model: str, needs: str | None = None) -> Run | None:
        """The ok run of ``model`` with the lowest seed (that has file ``needs``, when given)."""
        for r in self.runs_of(model):
            if needs is None or r.file(needs) is not None:
                return r
        return None

    def values(self, model: str, metric: str) -> np.ndarray:
        """Finite values of ``metric`` over the ok runs of ``model``, in seed order."""
        return np.array([r.metrics[metric] for r in self.runs_of(model) if metric in r.metrics], dtype=float)

    def values_after(self, model: str, metric: str, items: int) -> np.ndarray:
        """Finite values of ``metric`` over the ok runs of ``model`` after ``items`` training items
        (:meth:`Run.metrics_after`), in seed order."""
        rows = [r.metrics_after(items) for r in self.runs_of(model)]
        return np.array([m[metric] for m in rows if m and metric in m], dtype=float)

    def items_seen(self, model: str) -> int | None:
        """The training items every ok run of ``model`` was shown (None: none says, or they differ)."""
        seen = {r.items_seen for r in self.runs_of(model)}
        return seen.pop() if len(seen) == 1 else None

    def metric_names(self) -> list[str]:
        seen = dict.fromkeys(m for r in self.ok_runs for m in r.metrics)
        return order_metrics(seen)

    def higher_is_better(self, metric: str) -> bool | None:
        """Direction of ``metric``: the records' ``higher_is_better`` (majority), else genzoo's table."""
        votes = []
        for r in self.runs:
            hib = r.record.higher_is_better or {}
            if metric in hib and hib[metric] is not None:
                votes.append(bool(hib[metric]))
        if votes:
            return votes.count(True) >= votes.count(False)
        if metric in KNOWN_HIGHER_IS_BETTER:
            return KNOWN_HIGHER_IS_BETTER[metric]
        try:  # the metrics package's own table, when it is there
            from genzoo.metrics import HIGHER_IS_BETTER  # noqa: PLC0415

            if metric in HIGHER_IS_BETTER:
                return bool(HIGHER_IS_BETTER[metric])
        except Exception:
            pass
        return None

    def primary_metric(self) -> str | None:
        """modes_covered for mode benchmarks (:attr:`is_mode_benchmark`), else fid; else the first metric."""
        names = self.metric_names()
        if not names:
            return None
        prefs = ("modes_covered", "fid") if self.is_mode_benchmark else ("fid", "modes_covered")
        for p in prefs + PREFERRED_ORDER:
            if p in names:
                return p
        plain = [m for m in names if not is_class_frac(m)]
        return (plain or names)[0]

    def git(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.runs:
            c = r.record.git_commit
            if not c:
                continue
            c = str(c) + (" (uncommitted changes)" if r.record.git_dirty else "")
            out[c] = out.get(c, 0) + 1
        return out

    def distinct(self, field: str) -> dict[str, int]:
        """Distinct values (as text) of a record field (``profile``, ``device``, ...) over all runs,
        with their counts."""
        out: dict[str, int] = {}
        for r in self.runs:
            v = getattr(r.record, field)
            if v is None or v == "" or v == {}:
                continue
            if isinstance(v, dict):
                v = ", ".join(f"{k} {val}" for k, val in v.items())
            out[str(v)] = out.get(str(v), 0) + 1
        return out


def benchmark_file_dataset(name: str) -> str:
    """The dataset the benchmark file of this name declares (``genzoo bench``'s ``benchmarks/``), ""
    when there is none or it cannot be read."""
    from genzoo.errors import UserError  # noqa: PLC0415

    from ..bench.spec import load_benchmark as load_spec  # noqa: PLC0415

    try:
        return load_spec(name).dataset
    except (UserError, OSError, ValueError):
        return ""


def declared(model: str, what: str, default=None):
    """What a registered model declares (``family``, ``architecture``, ``published_names``,
    ``paper``); ``default`` for a model no longer registered (an old record)."""
    from genzoo.models import get_model_class  # noqa: PLC0415

    try:
        return getattr(get_model_class(model), what)
    except ValueError:
        return default


def order_metrics(names) -> list[str]:
    names = list(names)
    first = [m for m in PREFERRED_ORDER if m in names]
    frac = sorted((m for m in names if is_class_frac(m)), key=class_frac_index)
    rest = sorted(m for m in names if m not in first and m not in frac)
    return first + rest + frac


def benchmark_dir(benchmark: str, results_dir: str | os.PathLike = "results") -> Path:
    return Path(results_dir) / benchmark


def load_benchmark(benchmark: str, results_dir: str | os.PathLike = "results") -> Benchmark:
    """Read every ``runs/*/record.json`` of a benchmark.

    A record that cannot be read or parsed becomes a run with status ``"unreadable"`` (listed in
    the report like any other run that is not ok). Raises :class:`genzoo.errors.UserError` when the
    benchmark folder or its records are missing.
    """
    from genzoo.errors import UserError  # noqa: PLC0415

    bdir = benchmark_dir(benchmark, results_dir)
    if not bdir.is_dir():
        have = available_benchmarks(results_dir)
        hint = f"; benchmarks with records: {', '.join(have)}" if have else ""
        if Path(results_dir).resolve() != Path("results").resolve() and (Path("results") / benchmark).is_dir():
            hint += "; the committed reference is in results/ (--results results)"
        raise UserError(f"no results for benchmark {benchmark!r}: {bdir} does not exist{hint}")
    runs = []
    runs_dir = bdir / "runs"
    for rec in sorted(runs_dir.glob("*/record.json")) if runs_dir.is_dir() else []:
        run_id = rec.parent.name
        try:
            record = RunRecord.from_dict(json.loads(rec.read_text(encoding="utf-8")))
            problems = []
        except (OSError, ValueError, TypeError) as e:
            record = RunRecord(status="unreadable", reason=f"record.json could not be read: {e}")
            problems = [str(e)]
        runs.append(Run(run_id, rec.parent, record, problems))
    if not runs:
        raise UserError(f"no run records for benchmark {benchmark!r}: nothing matches {runs_dir}/*/record.json")
    runs.sort(key=Run.sort_key)
    return Benchmark(benchmark, bdir, runs, incomplete_runs(runs_dir))


def incomplete_runs(runs_dir: Path) -> dict[str, str]:
    """Runs without a record: ``{run_id: "running" | "stopped"}`` (running: a process holds the
    run's lock now, whether or not its folder exists yet; stopped: a folder without a record, left
    by a run killed, crashed or stopped by a failure of the environment, which the next
    ``genzoo bench`` does again)."""
    from ..bench.locks import RunLock  # noqa: PLC0415

    out = {}
    if not runs_dir.is_dir():
        return out
    for d in sorted(runs_dir.iterdir()):
        if d.is_dir() and not d.name.startswith(".") and not (d / "record.json").is_file():
            out[d.name] = "running" if RunLock(runs_dir, d.name).busy() else "stopped"
    for lock in sorted(runs_dir.glob(".*.lock")):      # a run being done has a lock and, until it ends, no folder
        run_id = lock.name[1:-len(".lock")]
        if run_id not in out and not (runs_dir / run_id / "record.json").is_file() and RunLock(runs_dir, run_id).busy():
            out[run_id] = "running"
    return dict(sorted(out.items()))


def available_benchmarks(results_dir: str | os.PathLike = "results") -> list[str]:
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any((p / "runs").glob("*/record.json")))
