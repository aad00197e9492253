"""Benchmarks: declarative TOML files in ``benchmarks/``, run by :func:`run_benchmark` (or
``genzoo bench BENCHMARK``), one run record (:class:`RunRecord`) per (model, seed) under
``results/<benchmark>/runs/``. Each run is :func:`execute_run`, in this process (``engine="local"``)
or in a Ray task (``engine="ray"``, :mod:`genzoo.bench.ray_engine`); only the calling process writes
the results (:func:`commit_run`). Only this package talks to Weights & Biases.

The runner (and torch with it) loads on first use of its names (PEP 562), so that the command
line's parser, which imports :mod:`genzoo.bench.cli`, stays light."""

from __future__ import annotations

from .._lazy import install
from .record import SCHEMA_VERSION, RunRecord, load_record, read_record
from .spec import RUNNER_KEYS, Benchmark, RunSpec, find_benchmark, list_benchmarks, load_benchmark

_RUNNER = ("BenchResult", "RunOutput", "commit_run", "execute_run", "resolve_device", "run_benchmark")

__all__ = ["BenchResult", "Benchmark", "RunOutput", "RunRecord", "RunSpec", "RUNNER_KEYS", "SCHEMA_VERSION",
           "commit_run", "execute_run", "find_benchmark", "list_benchmarks", "load_benchmark", "load_record",
           "read_record", "resolve_device", "run_benchmark"]


install(__name__, {name: ".runner" for name in _RUNNER}, __all__)
