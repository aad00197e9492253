"""The data of one bench invocation: each split loaded once (and each subset once), for every run.

The images stay as their loader returns them (uint8 for the image datasets): a subset is a copy of
its items, never a float copy of the set; they are converted per batch where they meet a network.
``data_dir`` (``genzoo bench --data-dir``) is where the loader reads the files: an option of the
invocation, not of the plan (the same run read from another copy of the files is the same run), so
it is in no fingerprint; each record's ``data`` says which files were read."""

from __future__ import annotations

import json

import genzoo.data

from ..errors import DataError, UserError
from .runspec import RunSettings, RunSpec
from .spec import Benchmark


class DatasetOptionsError(UserError):
    """The benchmark's dataset options make no dataset (the loader refused them); ``why`` says so
    without the benchmark's name, for a message that names the file, profile and model."""

    def __init__(self, bench: Benchmark, why: str):
        self.why = why
        super().__init__(f"benchmark {bench.name!r}: {why}")


def check_options(dataset: str, options: dict, where: str = "") -> None:
    """The ``options`` of a ``genzoo.data.load`` of ``dataset`` are ones its loader declares
    (``DatasetInfo.options``), else one line naming them; an unknown dataset: one line naming the
    registered ones. ``where``: what gave the options ("--data-dir"), for the message."""
    try:
        info = genzoo.data.dataset_info(dataset)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    stray = sorted(set(options) - set(info.options))
    if stray:
        takes = f"its options: {', '.join(info.options)}" if info.options else "it takes none"
        raise UserError(f"dataset {dataset!r} takes no option {', '.join(map(repr, stray))}"
                        f"{f' ({where})' if where else ''}; {takes}")


class Data:
    """Loads each split once per benchmark invocation (and each subset once); ``data_dir``: the
    folder the loader reads its files from (None: where ``genzoo.data`` looks by itself)."""

    def __init__(self, bench: Benchmark, data_dir: str | None = None):
        self.bench = bench
        self.data_dir = None if data_dir is None else str(data_dir)
        self._cache: dict = {}
        if self.data_dir is not None:
            check_options(bench.dataset, {"data_dir": self.data_dir}, "--data-dir")

    @staticmethod
    def _key(split: str, options: dict, subset: int) -> tuple:
        return split, json.dumps(options, sort_keys=True), subset

    def _load(self, split: str, options: dict, subset: int):
        key = self._key(split, options, subset)
        if key not in self._cache:
            full_key = self._key(split, options, 0)
            if full_key not in self._cache:
                try:
                    check_options(self.bench.dataset, options)
                    self._cache[full_key] = genzoo.data.load(self.bench.dataset, split, **self.read_options(options))
                except DataError:          # a missing or bad file: the machine's data, not the options
                    raise
                except UserError as exc:
                    raise DatasetOptionsError(self.bench, str(exc)) from None
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
        out.data_dir = self.data_dir
        for spec in specs:
            settings = spec.settings
            options = self.options(settings)
            out._cache[self._key("train", options, settings.train_subset)] = self.train(settings)
            out._cache[self._key(settings.reference_split, options, settings.reference_subset)] = \
                self.reference(settings)
        return out

    def options(self, settings: RunSettings) -> dict:
        """The dataset options of a run with these settings (the benchmark's, then its profile's)."""
        return {**self.bench.dataset_options, **settings.dataset_options}

    def read_options(self, options: dict) -> dict:
        """What ``genzoo.data.load`` gets: ``options`` and, when given, where the files are
        (``data_dir``, which wins over a benchmark file's)."""
        return {**options, "data_dir": self.data_dir} if self.data_dir is not None else dict(options)

    def train(self, settings: RunSettings):
        """The training split of a run with these (a RunSpec's) settings."""
        return self._load("train", self.options(settings), settings.train_subset)

    def reference(self, settings: RunSettings):
        """The split its samples are scored against."""
        return self._load(settings.reference_split, self.options(settings), settings.reference_subset)
