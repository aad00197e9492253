"""Benchmarks: declarative TOML files in ``benchmarks/``, run by :func:`run_benchmark` (or
``genzoo bench BENCHMARK``), one run record per (model, seed) under ``results/<benchmark>/runs/``.
Only this package talks to Weights & Biases."""

from .record import SCHEMA_VERSION, RunRecord, load_record, read_record
from .runner import BenchResult, RunOutput, commit_run, execute_run, resolve_device, run_benchmark
from .spec import RUNNER_KEYS, Benchmark, RunSpec, find_benchmark, list_benchmarks, load_benchmark

__all__ = ["BenchResult", "Benchmark", "RunOutput", "RunRecord", "RunSpec", "RUNNER_KEYS", "SCHEMA_VERSION",
           "commit_run", "execute_run", "find_benchmark", "list_benchmarks", "load_benchmark", "load_record",
           "read_record", "resolve_device", "run_benchmark"]
