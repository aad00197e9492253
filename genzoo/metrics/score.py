"""``score(samples_or_model, reference)``: every metric of a sample set against a reference Dataset.

Which metrics apply to a reference, which are computed by default, how many samples a model is
asked for, which evaluator scores the images and how modes are counted: read from its dataset's
declaration (:mod:`genzoo.metrics.plan`). Images may be uint8 (0..255) or float in [0, 1], the
reference's and the samples'; they are converted a batch at a time (``genzoo.data.as_float``).

Keys of the returned :class:`Scores` (request names in ``metrics=``; ``kid``/``is`` also give
``kid_std``/``is_std``, ``class_frac`` gives ``class_frac_0..K-1``, one per class of the evaluator):

- ``fid``, ``kid``, ``is``: torchmetrics' FID / KID / IS in the feature space of the dataset's
  evaluator (:mod:`genzoo.metrics.evaluator`: 128-d penultimate features, per channel group for a
  stacked dataset; IS on its class logits). ``*_inception``: the same with torchmetrics'
  InceptionV3 (2048-d), only when a weights file is on disk.
- ``precision``, ``recall`` (k=3), ``density``, ``coverage`` (k=5): see :mod:`genzoo.metrics.prdc`
  (on 2-D points: precision and recall on the raw coordinates).
- ``classes_covered``, ``mode_kl``, ``low_confidence``, ``class_frac_k``, ``modes_covered``,
  ``high_quality``: see :mod:`genzoo.metrics.modes`.
- ``sharpness``: mean Laplacian variance of the samples / that of the reference images (1.0 = as
  sharp as real data, below 1 = blurrier).

``is``/``is_std``: mean and standard deviation (ddof=1, torchmetrics' ``torch.std``) over 10 splits
(fewer only below 500 samples: see :mod:`genzoo.metrics.fid`).

``Scores.measured`` says what was scored (also in ``to_json()``; the run records copy it):
``samples`` (scored), ``reference_items`` (reference items the metrics used: min(n, len(reference)),
a fixed subset, seed 0; 0 when no computed metric used any, e.g. IS or the mode counts alone),
``reference_split``, ``reference_dataset``, ``evaluator`` (the feature network's name,
``<stem>-<sha256[:12]>``, or ``"raw coordinates"`` for 2-D points), ``evaluator_sha256`` (its
weights file's, images only), ``evaluator_test_accuracy`` (when its weights record it),
``evaluator_per_channel`` (True when each channel group of an item was scored on its own: a stacked
dataset), ``inception_sha256`` (only when a ``*_inception`` metric was computed), ``is_splits`` (only when
IS was computed) and ``metric_version`` (``METRIC_VERSION``; 2: float64 2-D metrics with PacGAN's
strict ``< 3 std``, 10 IS splits, ``measured``).
"""

from __future__ import annotations

import os

import torch
from tqdm.auto import tqdm

from ..data import as_float
from . import fid as fidlib
from .cache import (ABSENT, CHANGED, OTHER_SOURCE, UNHASHED, UNREADABLE, content_digest, load_stats, save_stats,
                    stats_path)
from .features import FeatureNet, evaluator_net
from .modes import ClassCoverage, PointModeCoverage, StackedModeCoverage
from .plan import (CLASS_METRICS, INCEPTION, STACKED_METRICS, DeclaredSampleCounts, ScoringPlan, evaluator_data_dir,
                   plan_for, plan_for_name)
from .prdc import DensityCoverage, PrecisionRecall, precision_recall
from .sharpness import Sharpness, laplacian_variance

METRIC_VERSION = 2     # bumped when a definition or its arithmetic changes what a metric reports

# Direction of every key that has one. Keys without a direction are absent: the spreads
# (kid_std, is_std, ...), the class histogram (class_frac_k) and sharpness (best at 1.0).
HIGHER_IS_BETTER: dict[str, bool] = {
    "fid": False, "kid": False, "is": True,
    "fid_inception": False, "kid_inception": False, "is_inception": True,
    "precision": True, "recall": True, "density": True, "coverage": True,
    "classes_covered": True, "mode_kl": False, "low_confidence": False,
    "modes_covered": True, "high_quality": True,
}

# What each requestable name yields (a name not listed here yields itself); class_frac yields one
# key per class of the evaluator (:func:`metric_keys`), listed here for the 10 of most datasets
METRIC_KEYS = {"kid": ["kid", "kid_std"], "is": ["is", "is_std"], "kid_inception": ["kid_inception", "kid_inception_std"],
               "is_inception": ["is_inception", "is_inception_std"], "class_frac": [f"class_frac_{k}" for k in range(10)]}
_NEEDS_REFERENCE = {"precision", "recall", "density", "coverage", "sharpness"}   # besides fid, kid
_USES_REFERENCE = _NEEDS_REFERENCE | {"fid", "kid", "fid_inception", "kid_inception"}
# the default sample count of each registered dataset, read from its declaration (DatasetInfo.n_samples)
DEFAULT_N = DeclaredSampleCounts()


def metric_keys(name: str, num_classes: int = 10) -> list[str]:
    """The keys a requested metric yields (``class_frac``: one per class of the evaluator)."""
    if name == "class_frac":
        return [f"class_frac_{k}" for k in range(num_classes)]
    return METRIC_KEYS.get(name, [name])


class Scores(dict):
    """``{metric: float}`` plus ``notes`` (how it was measured, what was left out and why),
    ``higher_is_better`` (the direction of each key that has one) and ``measured`` (what was
    scored: see the module docstring)."""

    def __init__(self, values=(), notes=(), higher_is_better=None, measured=None):
        super().__init__(values)
        self.notes: list[str] = list(notes)
        self.higher_is_better: dict[str, bool] = dict(higher_is_better or {})
        self.measured: dict = dict(measured or {})

    def table(self) -> str:
        width = max([len(k) for k in self] + [6])
        lines = [f"{'metric':<{width}}  {'value':>12}  better"]
        for k, v in self.items():
            arrow = {True: "higher", False: "lower"}.get(self.higher_is_better.get(k), "")
            lines.append(f"{k:<{width}}  {v:>12.6g}  {arrow}")
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def to_json(self) -> dict:
        return {"metrics": dict(self), "higher_is_better": self.higher_is_better, "notes": self.notes,
                "measured": self.measured}


def default_metrics(dataset_name: str) -> list[str]:
    """The metrics ``score`` computes for a reference of this registered dataset when none are
    named: its declaration's ``metrics`` (those that apply), else every metric that applies."""
    return list(plan_for_name(dataset_name).defaults)


def default_n(reference) -> int:
    """How many samples ``score`` draws from a model for this reference by default: its
    declaration's ``n_samples`` (10,000 images or 2,500 points for a Dataset built in memory)."""
    return plan_for(reference).n_samples


def applicable_metrics(reference, evaluator: str | None = None) -> list[str]:
    """Every metric that can be asked for on this reference (with this evaluator)."""
    return list(plan_for(reference, evaluator).applicable)


# ---------------------------------------------------------------------------------------- inputs

def _check_reference(reference, want=()) -> None:
    if reference.kind == "points":
        modes = {"modes_covered", "high_quality"} & set(want)
        if modes and ("means" not in reference.meta or "std" not in reference.meta):
            raise ValueError(f"{reference.name}: {sorted(modes)} need the mixture's meta['means'] and meta['std']; "
                             f"score it with metrics=['precision', 'recall']")


def _check_evaluator_input(plan: ScoringPlan, reference) -> None:
    """The evaluator must take the reference's images: its size, and its channels (a whole
    multiple of them for a stacked dataset). Checked before any work (or any training)."""
    from .evaluator import evaluator_spec

    spec = evaluator_spec(plan.evaluator)
    c_in, h, w = spec.input_shape()
    c = reference.shape[0]
    stacked = plan.mode_count == "stacked"
    if tuple(reference.shape[1:]) != (h, w) or (c % c_in if stacked else c != c_in):
        takes = f"{c_in}x{h}x{w} images" + (" (several stacked as channels)" if stacked else "")
        raise ValueError(f"the {spec.name} evaluator takes {takes}; {reference.name} has items {reference.shape}")


def _requested(metrics, plan: ScoringPlan, reference, notes: list[str]) -> tuple[list[str], bool]:
    if metrics is None:
        left = [m for m in plan.left_out if m not in plan.defaults]
        for why in dict.fromkeys(plan.left_out[m] for m in left):
            notes.append(f"{', '.join(m for m in left if plan.left_out[m] == why)} left out: {why}")
        return list(plan.defaults), False
    names = [m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    for m in names:
        if m not in plan.applicable:
            why = plan.why_not(m)
            raise ValueError(f"metric {m!r} does not apply to {reference.name} {reference.shape}"
                             f"{f' ({why})' if why else ''}; choose from {list(plan.applicable)}")
    return list(dict.fromkeys(names)), True


def _draw(samples, n: int | None, seed: int, reference, plan: ScoringPlan) -> torch.Tensor:
    if isinstance(samples, torch.Tensor):
        x = samples.detach()
        if n is not None:
            if n > len(x):
                raise ValueError(f"n={n} but only {len(x)} samples were given")
            x = x[:n]
    elif callable(getattr(samples, "sample", None)):
        if n is None:
            n = plan.n_samples
        x = samples.sample(n, seed=seed)
    else:
        raise TypeError(f"score() takes a tensor of samples or a fitted model, got {type(samples).__name__}")
    # points in float64 (exact for float32 input): their metrics compute in float64; uint8 images
    # stay uint8 (converted a batch at a time, as the reference's)
    x = x.detach().cpu()
    if reference.kind == "points":
        x = x.to(torch.float64)
    elif x.dtype != torch.uint8:
        x = x.to(torch.float32)
    if tuple(x.shape[1:]) != tuple(reference.shape):
        raise ValueError(f"samples have shape {tuple(x.shape[1:])} per item, {reference.name} has {reference.shape}")
    if len(x) < 2:
        raise ValueError("need at least 2 samples")
    if x.is_floating_point():
        bad = int((~torch.isfinite(x.reshape(len(x), -1))).any(1).sum())
        if bad:
            raise ValueError(f"{bad} of {len(x)} samples are not finite (NaN or inf): nothing to score")
    return x


def _device(device) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


# ------------------------------------------------------------------------------- reference stats

_RECOMPUTED = {UNHASHED: "carry no hash (an older genzoo wrote them)", CHANGED: "did not match their hash",
               OTHER_SOURCE: "did not match their hash (other reference images or network)",
               UNREADABLE: "were unreadable"}


def reference_stats(ref, net: FeatureNet, progress: bool = True) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Features ``(N, D)`` and mean Laplacian variance of the reference images, from the cache
    (when its hashes check out) or computed and cached. Returns (stats, notes saying which)."""
    digest = content_digest(ref.x)
    path = stats_path(ref.name, ref.split, net.name, len(ref), digest)
    source = {"reference_sha256": digest, "network": net.name}
    stats, status = load_stats(path, source)
    if stats is not None and stats["features"].shape != (len(ref), net.dim):
        stats, status = None, CHANGED
    if stats is not None:
        return stats, [f"reference statistics for {net.name}: from cache (hashes verified)"]
    stats = _compute_stats(ref, net, progress)
    failed = save_stats(path, stats, source)
    done = "recomputed" if failed else "recomputed and cached"
    notes = ([f"reference statistics for {net.name}: {'computed' if failed else 'computed and cached'}"]
             if status == ABSENT else [f"reference statistics for {net.name} in {path} {_RECOMPUTED[status]}: {done}"])
    if failed:
        notes.append(f"could not cache reference statistics in {path.parent}: {failed}")
    return stats, notes


def _compute_stats(ref, net: FeatureNet, progress: bool) -> dict[str, torch.Tensor]:
    feats, _ = net.extract(ref.x, desc=f"reference features ({net.name})", progress=progress, logits=False)
    return {"features": feats, "sharpness": _sharpness_of(ref.x)}


def _sharpness_of(x: torch.Tensor) -> torch.Tensor:
    """Mean Laplacian variance of images (uint8 or float in [0, 1]), 1,000 at a time."""
    return torch.cat([laplacian_variance(as_float(x[i:i + 1000])) for i in range(0, len(x), 1000)]).mean()


def _reference_subset(reference, n: int):
    return reference if n >= len(reference) else reference.subset(n, seed=0)


# -------------------------------------------------------------------------------------- scoring

def _run(updates, x: torch.Tensor, batch_size: int, device, desc: str, progress: bool) -> None:
    """Feed x batch by batch to every ``update`` callable (one network pass per batch, shared)."""
    for i in tqdm(range(0, len(x), batch_size), desc=desc, unit="batch",
                  disable=not progress or len(x) <= batch_size, leave=False):
        batch = as_float(x[i:i + batch_size].to(device))     # uint8 images: converted here, per batch
        for update in updates:
            update(batch)


def _fid_ok(name, want, n_fake, n_ref, dim, explicit, notes) -> bool:
    if name not in want:
        return False
    try:
        fidlib.check_fid_samples(n_fake, n_ref, dim, name)
    except fidlib.TooFewSamplesError as err:
        if explicit:
            raise
        notes.append(f"{name} left out: {err}")
        return False
    return True


def _score_features(x, ref, net: FeatureNet, want, explicit, seed, device, progress, notes, suffix="",
                    plan: ScoringPlan | None = None):
    """FID/KID/IS named ``fid{suffix}`` etc. (+ the evaluator-only metrics when suffix is '') of
    samples x against ref, in the feature space of ``net``."""
    out: dict[str, float] = {}
    fid_name, kid_name, is_name = (f"{m}{suffix}" for m in ("fid", "kid", "is"))
    do_fid = _fid_ok(fid_name, want, len(x), len(ref), net.dim, explicit, notes)   # raise before any work
    stats = real = None
    if do_fid or kid_name in want or (not suffix and _NEEDS_REFERENCE & set(want)):
        stats, stats_notes = reference_stats(ref, net, progress)
        notes.extend(stats_notes)
        real = stats["features"].to(device)
    f_mod, l_mod = net.features_module(), net.logits_module()
    updates, finish = [], []

    if do_fid:
        fid = fidlib.make_fid(f_mod).to(device)
        fidlib.load_real_features(fid, real)
        updates.append(lambda b: fid.update(b, real=False))
        # FID >= 0; torchmetrics can return -1e-12 for identical sets (rounding)
        finish.append(lambda: out.__setitem__(fid_name, max(0.0, float(fid.compute()))))
    if kid_name in want:
        kid = fidlib.make_kid(f_mod, len(x), len(ref)).to(device)
        fidlib.load_real_features(kid, real)
        updates.append(lambda b: kid.update(b, real=False))
        finish.append(lambda: _put_mean_std(out, kid_name, fidlib.compute_kid(kid, seed)))
        notes.append(f"{kid_name}: mean and std over {kid.subsets} subsets of {kid.subset_size}" if kid.subsets > 1
                     else f"{kid_name}: one subset of {kid.subset_size} (all samples); {kid_name}_std left out")
    if is_name in want:
        inc = fidlib.make_is(l_mod, len(x)).to(device)
        updates.append(inc.update)
        finish.append(lambda: _put_mean_std(out, is_name, fidlib.compute_is(inc, seed)))
        notes.append(_is_note(is_name, len(x), inc.splits))
    if not suffix:
        _add_evaluator_metrics(want, plan, net, real, stats, f_mod, l_mod, device, updates, finish, out)

    if updates:
        _run(updates, x, net.batch_size, device, f"sample features ({net.name})", progress)
        net.forget()
    for f in finish:
        f()
    return out


def _is_note(name: str, n: int, splits: int) -> str:
    if splits == 1:
        return f"{name}: one split of {n} (all samples); {name}_std left out"
    sizes = fidlib.split_sizes(n, splits)
    of = f"{sizes[0]}" if sizes[0] == sizes[-1] else f"{sizes[0]} (the last {sizes[-1]})"
    return f"{name}: mean and std (ddof=1) over {len(sizes)} splits of {of}"


def _put_mean_std(out: dict, name: str, mean_std: tuple[float, float]) -> None:
    out[name] = mean_std[0]
    if mean_std[1] == mean_std[1]:       # not NaN: more than one split
        out[f"{name}_std"] = mean_std[1]


def _add_evaluator_metrics(want, plan, net, real, stats, f_mod, l_mod, device, updates, finish, out):
    if {"precision", "recall"} & set(want):
        pr = PrecisionRecall(f_mod).to(device)
        pr.update_features(real, real=True)
        updates.append(lambda b: pr.update(b, real=False))
        finish.append(lambda: out.update(pr.compute()))
    if {"density", "coverage"} & set(want):
        dc = DensityCoverage(f_mod).to(device)
        dc.update_features(real, real=True)
        updates.append(lambda b: dc.update(b, real=False))
        finish.append(lambda: out.update(dc.compute()))
    classes = net.net.num_classes                     # the evaluator's classes: the histogram's bins
    if set(CLASS_METRICS) & set(want) and plan.mode_count == "classes":
        cc = ClassCoverage(l_mod, num_classes=classes).to(device)
        updates.append(cc.update)
        finish.append(lambda: out.update(cc.compute()))
    if set(STACKED_METRICS) & set(want) and plan.mode_count == "stacked":
        groups = net.dim // net.net.num_features      # images stacked in an item, each classified
        sm = StackedModeCoverage(l_mod, channels=groups, num_classes=classes).to(device)
        updates.append(sm.update)
        finish.append(lambda: out.update(sm.compute()))
    if "sharpness" in want:
        sh = Sharpness(reference=float(stats["sharpness"])).to(device)
        updates.append(sh.update)
        finish.append(lambda: out.__setitem__("sharpness", float(sh.compute())))


def _score_inception(x, ref, want, explicit, weights, seed, device, progress, notes, measured) -> dict[str, float]:
    import importlib.util

    from .evaluator import file_sha256
    from .inception import InceptionV3, find_weights

    path, where = find_weights(weights)
    if path is not None and importlib.util.find_spec("torch_fidelity") is None:
        path, where = None, "torchmetrics' InceptionV3 needs torch-fidelity (pip install torchmetrics[image])"
    if path is None:
        notes.append(f"{', '.join(want)} left out: {where}")
        return {}
    if not _fid_ok("fid_inception", want, len(x), len(ref), InceptionV3.num_features, explicit, notes):
        want = [m for m in want if m != "fid_inception"]        # checked before loading the network
    if not want:
        return {}
    model = InceptionV3(path).to(device)
    sha = file_sha256(path)
    net = FeatureNet(model, f"inception-{sha[:12]}", 2048, batch_size=100 if device.type == "cuda" else 25,
                     sha256=sha)
    measured["inception_sha256"] = sha
    notes.append(f"inception: torchmetrics NoTrainInceptionV3 from {path} ({where}), antialias={model.antialias} "
                 f"(antialiased resize to 299x299; the original TF FID resize had none), grayscale repeated to 3 "
                 f"channels, 2048-d pool features, IS on its 1008 unbiased logits")
    return _score_features(x, ref, net, want, explicit, seed, device, progress, notes, suffix="_inception")


def _score_points(x, reference, want, notes) -> dict[str, float]:
    out: dict[str, float] = {}
    if {"modes_covered", "high_quality"} & set(want):
        m = PointModeCoverage(reference.meta["means"], reference.meta["std"])
        m.update(x)
        out.update(m.compute())
        notes.append(f"high_quality/modes_covered: float64 distance to the nearest of {len(m.means)} means "
                     f"strictly under {m.n_std:g} std (PacGAN)")
    if {"precision", "recall"} & set(want):
        ref = _reference_subset(reference, len(x))
        out["precision"], out["recall"] = precision_recall(ref.x, x, k=3)   # on the raw 2-D coordinates
        notes.append(f"precision/recall: k=3 balls (distance <= radius, float64) on the raw coordinates, "
                     f"{len(x)} samples against {len(ref)} {reference.name}/{reference.split} points")
    return {k: out[k] for k in want}


def _get_evaluator(plan: ScoringPlan, reference, metrics, explicit, data_dir, progress, notes):
    """The plan's evaluator (shipped, cached, or trained now), or None when it cannot be had and
    ``metrics`` were not named explicitly (they are left out with a note)."""
    from ..errors import DataError
    from .evaluator import EvaluatorWeightsError, get_evaluator

    try:
        ev = get_evaluator(plan.evaluator, data_dir=evaluator_data_dir(plan, reference, data_dir),
                           progress=progress)
    except (DataError, EvaluatorWeightsError) as exc:
        if explicit:
            raise
        notes.append(f"{', '.join(metrics)} left out: no {plan.evaluator} evaluator ({' '.join(str(exc).split())})")
        return None
    if ev.trained:
        notes.append(f"evaluator {plan.evaluator}: trained on first use on its train split (test accuracy "
                     f"{ev.test_accuracy:.4f}), kept in {ev.path}")
    return ev


def _score_sharpness(x, ref, dev, progress) -> float:
    """Sharpness without an evaluator: the reference's mean Laplacian variance computed directly."""
    sh = Sharpness(reference=float(_sharpness_of(ref.x))).to(dev)
    _run([sh.update], x, 500, dev, "sample sharpness", progress)
    return float(sh.compute())


def _score_images(x, reference, want, explicit, plan, inception_weights, seed, dev, progress, notes, measured,
                  data_dir):
    values: dict[str, float] = {}
    ref = _reference_subset(reference, len(x))
    notes.append(f"{len(x)} samples against {len(ref)} {reference.name}/{reference.split} images")
    own = [m for m in want if m not in INCEPTION]
    ev = None
    if plan.uses_evaluator(own):
        ev = _get_evaluator(plan, reference, [m for m in own if m != "sharpness"], explicit, data_dir, progress,
                            notes)
    if ev is not None:
        net = evaluator_net(ev, reference.shape[0], dev)
        per_channel = net.dim > ev.network.num_features
        measured.update(evaluator=net.name, evaluator_sha256=ev.sha256)
        if ev.test_accuracy is not None:
            measured["evaluator_test_accuracy"] = ev.test_accuracy
        if per_channel:
            measured["evaluator_per_channel"] = True
        notes.append(f"evaluator: {net.name} ({net.dim}-d penultimate features"
                     f"{', per channel' if per_channel else ''})")
        values.update(_score_features(x, ref, net, own, explicit, seed, dev, progress, notes, plan=plan))
    elif "sharpness" in own:
        values["sharpness"] = _score_sharpness(x, ref, dev, progress)
    inc = [m for m in want if m in INCEPTION]
    if inc:
        values.update(_score_inception(x, ref, inc, explicit, inception_weights, seed, dev, progress, notes,
                                       measured))
    return values


_MEASURED_KEYS = ("evaluator", "evaluator_sha256", "evaluator_test_accuracy", "evaluator_per_channel",
                  "inception_sha256")


def _measured(x, reference, values, measured: dict) -> dict:
    """What was scored (see the module docstring), in a fixed key order."""
    uses_ref = any(k in values for k in _USES_REFERENCE)
    out = {"samples": len(x), "reference_items": min(len(x), len(reference)) if uses_ref else 0,
           "reference_split": reference.split, "reference_dataset": reference.name}
    if reference.kind == "points":
        out["evaluator"] = "raw coordinates"
    # images: absent when only InceptionV3 scored them (inception_sha256 then says which), or sharpness alone
    out.update({k: measured[k] for k in _MEASURED_KEYS if k in measured})
    if "is" in values or "is_inception" in values:
        out["is_splits"] = len(fidlib.split_sizes(len(x), fidlib.is_splits(len(x))))
    out["metric_version"] = METRIC_VERSION
    return out


def score(samples, reference, metrics=None, *, n: int | None = None, seed: int = 0, device="cpu",
          inception_weights: str | os.PathLike | None = None, progress: bool = True, evaluator: str | None = None,
          data_dir: str | os.PathLike | None = None) -> Scores:
    """Score samples (a tensor, or a fitted model: ``model.sample(n, seed=seed)``) against ``reference``.

    ``metrics``: names (list or comma-separated string); ``None`` means the reference's defaults
    (its declaration's ``metrics``; those that do not apply are left out with a note saying why).
    ``n``: samples to draw from a model (default: the declaration's ``n_samples``) or the first n
    of a tensor; the reference uses min(n, len(reference)) of its items (a fixed subset, seed 0).
    Images: uint8 (0..255) or float in [0, 1], the samples' and the reference's.
    ``evaluator``: the evaluator to score images with (one of
    :data:`~genzoo.metrics.evaluator.EVALUATORS`) instead of the declared one, e.g. for a Dataset
    built in memory, which declares none. An evaluator that is not in genzoo's cache is trained on
    first use on its dataset's train split, read from ``data_dir`` (default: the reference's own
    folder when it was read from a ``data_dir``, else where genzoo.data finds it).
    Metrics named explicitly that cannot be computed raise (FID with too few samples:
    :class:`TooFewSamplesError`); default ones are left out with a note. The ``*_inception``
    metrics are left out, with a note, when no InceptionV3 weights file is on disk.
    """
    plan = plan_for(reference, evaluator)
    notes: list[str] = []
    want, explicit = _requested(metrics, plan, reference, notes)
    _check_reference(reference, want)
    if reference.kind == "image" and plan.uses_evaluator(want):
        _check_evaluator_input(plan, reference)
    x = _draw(samples, n, seed, reference, plan)
    if reference.kind != "points" and x.is_floating_point() and (x.min() < 0 or x.max() > 1):
        notes.append(f"samples outside [0, 1] (min {float(x.min()):.3g}, max {float(x.max()):.3g}) were clipped")
        x = x.clamp(0, 1)
    measured: dict = {}
    with torch.no_grad():
        if reference.kind == "points":
            values = _score_points(x, reference, want, notes)
        else:
            values = _score_images(x, reference, want, explicit, plan, inception_weights, seed, _device(device),
                                   progress, notes, measured, data_dir)
    classes = sum(k.startswith("class_frac_") for k in values) or 10
    order = [k for m in want for k in metric_keys(m, classes)]
    ordered = {k: values[k] for k in order if k in values}
    return Scores(ordered, notes, {k: HIGHER_IS_BETTER[k] for k in ordered if k in HIGHER_IS_BETTER},
                  _measured(x, reference, ordered, measured))
