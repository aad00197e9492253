"""The data of one bench invocation: each split loaded once (and each subset once), for every run."""

from __future__ import annotations

import json

import genzoo.data

from ..errors import UserError
from .runspec import RunSettings, RunSpec
from .spec import Benchmark


class DatasetOptionsError(UserError):
    """The benchmark's dataset options make no dataset (the loader refused them); ``why`` says so
    without the benchmark's name, for a message that names the file, profile and model."""

    def __init__(self, bench: Benchmark, why: str):
        self.why = why
        super().__init__(f"benchmark {bench.name!r}: {why}")


class Data:
    """Loads each split once per benchmark invocation (and each subset once)."""

    def __init__(self, bench: Benchmark):
        self.bench = bench
        self._cache: dict = {}

    @staticmethod
    def _key(split: str, options: dict, subset: int) -> tuple:
        return split, json.dumps(options, sort_keys=True), subset

    def _load(self, split: str, options: dict, subset: int):
        key = self._key(split, options, subset)
        if key not in self._cache:
            full_key = self._key(split, options, 0)
            if full_key not in self._cache:
                try:
                    self._cache[full_key] = genzoo.data.load(self.bench.dataset, split, **options)
                except (TypeError, ValueError) as exc:
                    raise DatasetOptionsError(self.bench, f"cannot load dataset {self.bench.dataset!r} ({split}) "
                                                          f"with {options}: {exc}") from None
            ds = self._cache[full_key]
            if subset and subset < len(ds):
                ds = ds.subset(subset, seed=0)
            self._cache[key] = ds
        return self._cache[key]

    def only(self, specs: list[RunSpec]) -> "Data":
        """The splits (and subsets) these runs train on and are scored against, loaded now, and
        nothing else: what a Ray task gets from the object store."""
        out = Data(self.bench)
        for spec in specs:
            settings = spec.settings
            options = self.options(settings)
            out._cache[self._key("train", options, settings.train_subset)] = self.train(settings)
            out._cache[self._key(settings.reference_split, options, settings.reference_subset)] = \
                self.reference(settings)
        return out

    def options(self, settings: RunSettings) -> dict:
        """The options ``genzoo.data.load`` gets for a run with these settings."""
        return {**self.bench.dataset_options, **settings.dataset_options}

    def train(self, settings: RunSettings):
        """The training split of a run with these (a RunSpec's) settings."""
        return self._load("train", self.options(settings), settings.train_subset)

    def reference(self, settings: RunSettings):
        """The split its samples are scored against."""
        return self._load(settings.reference_split, self.options(settings), settings.reference_subset)
