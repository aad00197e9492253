"""Results and reports: tables, figures and tested claims, generated from run records.

``genzoo report BENCHMARK`` (or :func:`build_report`) reads ``results/<benchmark>/runs/*/record.json``
and writes, under ``results/<benchmark>/``: ``summary.md``, ``summary.csv``, ``claims.md``,
``claims.json``, ``literature.md`` and ``figures/*.png``.

The names load on first use (PEP 562), so that ``genzoo.report.cli`` (the ``genzoo report``
parser) is imported without pandas or matplotlib.
"""

from __future__ import annotations

from .._lazy import install

_FROM = {
    "Report": ".build", "build_report": ".build", "evaluate_claims": ".build", "readme_snippet": ".build",
    "summary": ".build", "DOES_NOT_HOLD": ".claims", "HOLDS": ".claims", "INCONCLUSIVE": ".claims",
    "VERDICT_RULE": ".claims", "Claim": ".claims", "Comparison": ".claims", "Benchmark": ".records", "Run": ".records",
    "available_benchmarks": ".records", "load_benchmark": ".records", "summary_frame": ".summary",
}

__all__ = [
    "Benchmark", "Claim", "Comparison", "DOES_NOT_HOLD", "HOLDS", "INCONCLUSIVE", "Report", "Run", "VERDICT_RULE",
    "available_benchmarks", "build_report", "evaluate_claims", "load_benchmark", "readme_snippet", "summary",
    "summary_frame",
]


install(__name__, _FROM, __all__)
