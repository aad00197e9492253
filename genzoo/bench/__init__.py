"""Benchmarks: declarative TOML files in ``benchmarks/``, run by :func:`run_benchmark` (or
``genzoo bench BENCHMARK``), one run record (:class:`RunRecord`) per (model, seed) under
``results/<benchmark>/runs/``. Each run is :func:`execute_run`, in this process (``engine="local"``)
or in a Ray task (``engine="ray"``, :mod:`genzoo.bench.ray_engine`); only the calling process writes
the results (:func:`commit_run`), the scheduler (:mod:`genzoo.bench.schedule`) the same for both
engines. Only this package talks to Weights & Biases (:mod:`genzoo.bench.tracking`).

The pipeline, one module a job: :mod:`.plan` (checked run specs, resume state, preflight) ->
:mod:`.schedule` (locks, records, progress) -> :mod:`.engines` (local, :mod:`.ray_engine`) ->
:mod:`.execute` (one run: :mod:`.packed`, :mod:`.score`; its record from :mod:`.draft`) ->
:mod:`.store` (the results folder); :mod:`.api` puts them together.

The pipeline (and torch with it) loads on first use of its names (PEP 562), so that the command
line's parser, which imports :mod:`genzoo.bench.cli`, stays light."""

from __future__ import annotations

from .._lazy import install
from .record import SCHEMA_VERSION, RunRecord, load_record, read_record
from .runspec import RUNNER_KEYS, RunSettings, RunSpec
from .spec import Benchmark, find_benchmark, list_benchmarks, load_benchmark

_LAZY = {"BenchResult": ".api", "run_benchmark": ".api", "RunOutput": ".store", "commit_run": ".store",
         "RunContext": ".context", "execute_run": ".execute", "resolve_device": ".environment",
         "resolve_profile": ".plan"}

__all__ = ["BenchResult", "Benchmark", "RunContext", "RunOutput", "RunRecord", "RunSettings", "RunSpec", "RUNNER_KEYS",
           "SCHEMA_VERSION", "commit_run", "execute_run", "find_benchmark", "list_benchmarks", "load_benchmark",
           "load_record", "read_record", "resolve_device", "resolve_profile", "run_benchmark"]


install(__name__, _LAZY, __all__)
