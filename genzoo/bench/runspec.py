"""One run of a benchmark as planned: :class:`RunSpec` (model, seed, preset, overrides) and its
:class:`RunSettings` (the runner keys of :data:`RUNNER_KEYS`, defaults filled in).

A record keeps the settings as the JSON object :meth:`RunSettings.to_dict` gives (``plan.settings``),
and :meth:`RunSpec.fingerprint` hashes that object, so records and fingerprints do not depend on
this class: a runner key added later (with its default) leaves old plans valid.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from ..limits import MAX_SEED, MAX_SEEDS

EVAL_SEED_OFFSET = 10_000      # scored samples come from seed 10_000 + run seed

# Keys the runner itself reads; their meaning and default.
RUNNER_KEYS: dict[str, tuple[object, str]] = {
    "description": ("", "what the profile is for"),
    "seeds": ([0], f"training seeds, at most {MAX_SEEDS:,}, each from 0 to {MAX_SEED:,}; one run per (model, seed)"),
    "preset": ("default", "model preset passed to genzoo.get_model"),
    "train_subset": (0, "train on ds.subset(n, seed=0) of the training split (0: all of it)"),
    "n_samples": (2000, "samples generated and scored per run"),
    "reference_split": ("test", "split the metrics compare against"),
    "reference_subset": (0, "score against ds.subset(n, seed=0) of the reference split (0: all of it)"),
    "metrics": ([], "metric names for genzoo.metrics.score (empty: its defaults for the dataset)"),
    "per_class": (True, "conditional models: also score each class (sampled with that label)"),
    "per_class_samples": (500, "samples per class for the per-class scores"),
    "per_class_metrics": ([], "metrics of the per-class scores (empty: fid for images, the defaults for points)"),
    "normal_prior": (True, "models whose sample() takes prior=: also score prior='normal' samples"),
    "score_at_steps": ([], "also score the run after these training steps (those it reaches), as at its end but "
                           "without its files: the record's at_steps (FID against images shown, or a model "
                           "compared at another's budget)"),
    "log_every": (0, "W&B: log the step's losses every k steps (0: about 500 points per run)"),
    "images": (8, "W&B: sample grids logged during training (0: none)"),
    "dataset_options": ({}, "extra genzoo.data.load options for this profile"),
}
PLAN_KEYS = ("seeds", "preset")       # runner keys that make the plan (RunSpec), not a run's settings
NOT_HASHED = ("description", "log_every", "images")     # W&B cadence and notes: not what a run computes


def _default(key: str):
    return field(default_factory=lambda: copy.deepcopy(RUNNER_KEYS[key][0]))


@dataclass(frozen=True)
class RunSettings:
    """The runner keys of one run (every key of :data:`RUNNER_KEYS` but ``seeds`` and ``preset``),
    with the same names and defaults, in the same order."""

    description: str = _default("description")
    train_subset: int = _default("train_subset")
    n_samples: int = _default("n_samples")
    reference_split: str = _default("reference_split")
    reference_subset: int = _default("reference_subset")
    metrics: list = _default("metrics")
    per_class: bool = _default("per_class")
    per_class_samples: int = _default("per_class_samples")
    per_class_metrics: list = _default("per_class_metrics")
    normal_prior: bool = _default("normal_prior")
    score_at_steps: list = _default("score_at_steps")
    log_every: int = _default("log_every")
    images: int = _default("images")
    dataset_options: dict = _default("dataset_options")

    @classmethod
    def from_dict(cls, values: dict | None) -> "RunSettings":
        """The settings of a JSON object (a record's ``plan.settings``): a key it lacks takes its
        default, a key this class does not know (a record of another genzoo) is left out."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: copy.deepcopy(v) for k, v in (values or {}).items() if k in names})

    def to_dict(self) -> dict:
        """The JSON object of a record's ``plan.settings``."""
        return dataclasses.asdict(self)

    def hashed(self) -> dict:
        """The settings that change what a run computes (W&B logging cadence does not), left out
        where they have their default value, so that a runner key added later keeps old plans valid."""
        return {k: v for k, v in self.to_dict().items()
                if k not in NOT_HASHED and (k not in RUNNER_KEYS or v != RUNNER_KEYS[k][0])}


assert [f.name for f in dataclasses.fields(RunSettings)] == [k for k in RUNNER_KEYS if k not in PLAN_KEYS]


@dataclass(frozen=True)
class RunSpec:
    """One (model, seed) run of a benchmark: everything needed to do it and to record it."""

    benchmark: str
    profile: str
    dataset: str
    model: str
    seed: int
    preset: str
    overrides: dict          # model config overrides for genzoo.get_model
    settings: RunSettings    # runner keys, resolved (defaults filled in)
    sweep: dict | None = None   # a sweep's trial: {"trial", "space", "seed", "trials", "settings"}
    # a profile's settings_from: the sweep its overrides' searched keys came from,
    # {"sweep": the folder as the benchmark file names it, "trial", "metric", "value", "settings"}
    settings_from: dict | None = None

    @property
    def run_id(self) -> str:
        if self.sweep is not None:
            return f"{self.model}-t{int(self.sweep['trial']):03d}-s{self.seed}"
        return f"{self.model}-s{self.seed}"

    @property
    def sample_seed(self) -> int:
        """The seed of the samples a run is scored on."""
        return EVAL_SEED_OFFSET + self.seed

    def fingerprint(self) -> str:
        """A short hash of what this run was asked to do (profile, preset, overrides, settings),
        so a resumed benchmark can tell a finished run of the same plan from a different one."""
        blob = json.dumps({"profile": self.profile, "dataset": self.dataset, "preset": self.preset,
                           "overrides": self.overrides, "settings": self.settings.hashed()},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def plan_entry(self) -> dict:
        """A record's ``plan``: what the run was asked to do, its fingerprint, and (a profile with
        ``settings_from``) the sweep and trial its searched settings came from."""
        entry = {"fingerprint": self.fingerprint(), "preset": self.preset, "overrides": self.overrides,
                 "settings": self.settings.to_dict()}
        if self.settings_from is not None:
            entry["settings_from"] = self.settings_from
        return entry

    def same_plan(self) -> str:
        """A key shared by the runs of one plan that differ only in their seed (they can be
        trained together)."""
        return json.dumps([self.model, self.preset, self.overrides, self.settings.to_dict()], sort_keys=True,
                          default=str)
