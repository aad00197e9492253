"""Results and reports: tables, figures and tested claims, generated from run records.

``genzoo report BENCHMARK`` (or :func:`build_report`) reads ``results/<benchmark>/runs/*/record.json``
and writes, under ``results/<benchmark>/``: ``summary.md``, ``summary.csv``, ``claims.md``,
``claims.json``, ``literature.md`` and ``figures/*.png``.
"""

from .build import Report, build_report, evaluate_claims, readme_snippet, summary
from .claims import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, VERDICT_RULE, Claim, Comparison
from .records import Benchmark, Run, available_benchmarks, load_benchmark
from .summary import summary_frame

__all__ = [
    "Benchmark", "Claim", "Comparison", "DOES_NOT_HOLD", "HOLDS", "INCONCLUSIVE", "Report", "Run", "VERDICT_RULE",
    "available_benchmarks", "build_report", "evaluate_claims", "load_benchmark", "readme_snippet", "summary",
    "summary_frame",
]
