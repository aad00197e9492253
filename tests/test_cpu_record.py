"""Each record says which CPU made it and which vector kernels PyTorch used there (run times and
the last digits of CPU results depend on both), and the summary header says it: a real tiny
benchmark, and a real process with PyTorch's kernels limited."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from genzoo.bench import run_benchmark
from genzoo.bench.environment import cpu_info
from genzoo.report.build import provenance
from genzoo.report.records import load_benchmark as load_results


def test_a_record_and_the_summary_name_the_cpu_and_the_kernels_used(tmp_path, make_benchmark):
    toml = make_benchmark("tiny-cpu", "ring", ["gan"])
    result = run_benchmark(toml, profile="tiny", out=tmp_path / "r", quiet=True)
    (rec,) = result.records
    assert rec.cpu == json.loads(json.dumps(cpu_info()))
    assert rec.cpu["torch_kernels"] == torch.backends.cpu.get_cpu_capability()
    assert rec.cpu["logical_cpus"] == os.cpu_count() and isinstance(rec.cpu["vector_extensions"], list)
    header = provenance(load_results("tiny-cpu", tmp_path / "r"))
    line = next(x for x in header.splitlines() if x.startswith("- CPU: "))
    assert rec.cpu["model"] in line and f"PyTorch kernels {rec.cpu['torch_kernels']}" in line


def test_limited_kernels_are_recorded_with_the_variable_that_limited_them():
    code = "import json; from genzoo.bench.environment import cpu_info; print(json.dumps(cpu_info()))"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    out = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout)
    assert out["torch_kernels"] == "DEFAULT" and out["isa_env"]["ATEN_CPU_CAPABILITY"] == "default"
