"""Benchmarks: declarative TOML files in ``benchmarks/``, run by :func:`run_benchmark` (or
``genzoo bench BENCHMARK``), one run record per (model, seed) under ``results/<benchmark>/runs/``.
Only this package talks to Weights & Biases."""

from .runner import BenchResult, execute_run, read_record, resolve_device, run_benchmark
from .spec import RUNNER_KEYS, Benchmark, RunSpec, find_benchmark, list_benchmarks, load_benchmark

__all__ = ["BenchResult", "Benchmark", "RunSpec", "RUNNER_KEYS", "execute_run", "find_benchmark",
           "list_benchmarks", "load_benchmark", "read_record", "resolve_device", "run_benchmark"]
