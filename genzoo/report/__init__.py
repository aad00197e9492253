"""Results and reports: tables, figures and tested claims, generated from run records.

``genzoo report BENCHMARK`` (or :func:`build_report`) reads ``results/<benchmark>/runs/*/record.json``
and writes, under ``results/<benchmark>/``: ``summary.md``, ``summary.csv``, ``claims.md``,
``claims.json``, ``literature.md`` and ``figures/*.png``.

The names load on first use (PEP 562), so that ``genzoo.report.cli`` (the ``genzoo report``
parser) is imported without pandas or matplotlib.
"""

from __future__ import annotations

import importlib
import sys
import types

_FROM = {
    "Report": "build", "build_report": "build", "evaluate_claims": "build", "readme_snippet": "build",
    "summary": "build", "DOES_NOT_HOLD": "claims", "HOLDS": "claims", "INCONCLUSIVE": "claims",
    "VERDICT_RULE": "claims", "Claim": "claims", "Comparison": "claims", "Benchmark": "records", "Run": "records",
    "available_benchmarks": "records", "load_benchmark": "records", "summary_frame": "summary",
}

__all__ = [
    "Benchmark", "Claim", "Comparison", "DOES_NOT_HOLD", "HOLDS", "INCONCLUSIVE", "Report", "Run", "VERDICT_RULE",
    "available_benchmarks", "build_report", "evaluate_claims", "load_benchmark", "readme_snippet", "summary",
    "summary_frame",
]


class _Package(types.ModuleType):
    """Keeps ``summary`` the function: the import of the submodule of the same name would
    otherwise bind the module over it (as eager imports here used to prevent)."""

    def __setattr__(self, name, value):
        if name in _FROM and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _FROM:
        value = getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
