"""What a reference is scored with, read from its dataset's declaration (``genzoo.data.find_info``):
which metrics apply, which are computed by default, how many samples a model is asked for, which
evaluator scores the images and how modes are counted. Nothing here tests a dataset's name: a
Dataset a user built in memory (no declaration) is planned from what the data itself says (points
or images) and the evaluator the user names, if any.

Images: sharpness always; the ``*_inception`` metrics for 1- or 3-channel images (computed when
InceptionV3 weights are on disk); with an evaluator FID, KID, precision / recall and density /
coverage in its feature space; with an evaluator of classes (not an attribute classifier) also IS
(one image per item) and the mode counts the declaration asks for (``mode_count``: ``"classes"``,
a class histogram; ``"stacked"``, a class per channel group). Points: the 2-D mixture metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .evaluator.specs import EVALUATORS, evaluator_spec
from .inception import CHANNELS as INCEPTION_CHANNELS

# every image metric, in the order score() reports them
IMAGE_METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_covered",
                 "modes_covered", "mode_kl", "low_confidence", "class_frac", "sharpness",
                 "fid_inception", "kid_inception", "is_inception")
POINT_METRICS = ("modes_covered", "high_quality", "precision", "recall")
INCEPTION = ("fid_inception", "kid_inception", "is_inception")
FEATURE_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage")     # the evaluator's features
CLASS_METRICS = ("classes_covered", "mode_kl", "low_confidence", "class_frac")     # mode_count "classes"
STACKED_METRICS = ("modes_covered", "mode_kl")                                      # mode_count "stacked"
# an undeclared dataset's sample count: Lucic et al. (FID on 10k), the 2-D mixtures of PacGAN (2.5k)
N_IMAGES, N_POINTS = 10_000, 2_500


@dataclass(frozen=True)
class ScoringPlan:
    """How a reference is scored: ``dataset`` and ``kind``; ``declared`` (it has a declaration);
    ``evaluator`` (its name, "" for none); ``mode_count`` (``genzoo.data``'s MODE_COUNTS);
    ``applicable`` (every metric that can be asked for, in report order), ``defaults`` (those
    computed when none are named), ``left_out`` (metric -> why it does not apply, for those a
    default request leaves out and says so) and ``n_samples`` (the default sample count)."""

    dataset: str
    kind: str
    declared: bool
    evaluator: str
    mode_count: str
    applicable: tuple[str, ...]
    defaults: tuple[str, ...]
    n_samples: int
    left_out: dict[str, str] = field(default_factory=dict)

    def why_not(self, metric: str) -> str:
        """Why ``metric`` does not apply (a phrase), "" when it does or nothing explains it."""
        return self.left_out.get(metric, "")

    def uses_evaluator(self, metrics) -> bool:
        """Whether any of ``metrics`` needs the evaluator network."""
        return any(m not in INCEPTION and m != "sharpness" for m in metrics)


def _has_classes(evaluator: str) -> bool:
    return bool(evaluator) and evaluator_spec(evaluator).has_classes


def _image_metrics(evaluator: bool, classes: bool, mode_count: str, channels: int | None) -> set[str]:
    """The image metrics that apply with (or without) an evaluator, of classes or not."""
    out = {"sharpness"}
    if channels is None or channels in INCEPTION_CHANNELS:
        out |= set(INCEPTION)
    if not evaluator:
        return out
    out |= set(FEATURE_METRICS)
    if classes:
        if mode_count != "stacked":
            out.add("is")
        out |= set({"classes": CLASS_METRICS, "stacked": STACKED_METRICS}.get(mode_count, ()))
    return out


def _why(dataset: str, declared: bool, evaluator: str, mode_count: str, channels: int | None) -> dict[str, str]:
    """Each image metric that does not apply, and why."""
    have = _image_metrics(bool(evaluator), _has_classes(evaluator), mode_count, channels)
    # what an evaluator of classes would add (a Dataset built in memory counts classes with one)
    with_one = _image_metrics(True, True, mode_count if declared else "classes", None)
    out = {}
    for m in IMAGE_METRICS:
        if m in have:
            continue
        if m in INCEPTION:
            out[m] = f"InceptionV3 takes images of {' or '.join(map(str, INCEPTION_CHANNELS))} channels, not {channels}"
        elif not evaluator and m in with_one:
            whose = "its declaration names none" if declared else "a Dataset built in memory declares none"
            out[m] = (f"{dataset} has no evaluator ({whose}); name one with score(..., evaluator=...), "
                      f"one of {', '.join(EVALUATORS)}")
        elif evaluator and not _has_classes(evaluator) and m in with_one:
            out[m] = (f"the {evaluator} evaluator is an attribute classifier (a sigmoid per attribute), "
                      f"not a classifier of classes")
    return out


def make_plan(dataset: str, kind: str, shape: tuple[int, ...] | None, evaluator: str | None = None) -> ScoringPlan:
    """The plan of a reference named ``dataset`` of ``kind`` with items of ``shape`` (None: the
    declaration leaves it to the options); ``evaluator`` overrides the declared one."""
    from genzoo.data import find_info

    info = find_info(dataset)
    if evaluator is not None and evaluator != "":
        evaluator_spec(evaluator)                                   # an unknown name: ValueError
    if kind == "points":
        defaults = tuple(info.metrics) if info is not None and info.metrics else POINT_METRICS
        return ScoringPlan(dataset, kind, info is not None, "", (info.mode_count if info else "") or "points",
                           POINT_METRICS, defaults, info.n_samples if info is not None else N_POINTS)
    if info is not None:
        ev = info.evaluator if evaluator is None else evaluator
        mode_count = info.mode_count
    else:
        ev = evaluator or ""
        mode_count = "classes" if ev else ""
    channels = shape[0] if shape else None
    have = _image_metrics(bool(ev), _has_classes(ev), mode_count, channels)
    applicable = tuple(m for m in IMAGE_METRICS if m in have)
    declared = tuple(info.metrics) if info is not None and info.metrics else None
    if declared is None:
        defaults = applicable
    else:
        defaults = tuple(m for m in declared if m in have)
    left_out = _why(dataset, info is not None, ev, mode_count, channels)
    return ScoringPlan(dataset, kind, info is not None, ev, mode_count, applicable, defaults,
                       info.n_samples if info is not None else N_IMAGES, left_out)


def plan_for(reference, evaluator: str | None = None) -> ScoringPlan:
    """The plan of a reference :class:`~genzoo.data.Dataset` (see :func:`make_plan`)."""
    return make_plan(reference.name, reference.kind, reference.shape, evaluator)


def plan_for_name(dataset: str) -> ScoringPlan:
    """The plan of a registered dataset from its declaration alone (ValueError if unknown)."""
    from genzoo.data import dataset_info

    info = dataset_info(dataset)
    return make_plan(dataset, info.kind, info.shape)


def evaluator_data_dir(plan: ScoringPlan, reference, data_dir=None):
    """Where the evaluator's training data is, for one trained on first use: ``data_dir`` when
    given; else, for the evaluator the reference's declaration names, the folder the reference
    itself was read from when the user named it (its ``meta["source"]``); else None (genzoo.data's
    usual search)."""
    if data_dir is not None:
        return data_dir
    from genzoo.data import find_info

    info = find_info(reference.name)
    source = reference.meta.get("source") or {}
    if info is not None and info.evaluator == plan.evaluator and source.get("how") == "data_dir":
        return source.get("folder")
    return None


class DeclaredSampleCounts(Mapping):
    """``{dataset: default sample count}`` of the registered datasets, read from their declarations."""

    def __getitem__(self, name: str) -> int:
        from genzoo.data import find_info

        info = find_info(name)
        if info is None:
            raise KeyError(name)
        return info.n_samples

    def __iter__(self):
        from genzoo.data import list_datasets

        return iter(list_datasets())

    def __len__(self) -> int:
        from genzoo.data import list_datasets

        return len(list_datasets())
