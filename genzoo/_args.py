"""The command line's argument types (light: argparse and genzoo.limits only, no torch), shared by
``genzoo bench``, ``genzoo sweep`` and ``genzoo score``."""

from __future__ import annotations

import argparse
import re

from .limits import MAX_SEED, MAX_SEEDS, check_seed

__all__ = ["given_twice", "list_arg", "seed_arg"]


def given_twice(values) -> list:
    """The values that occur more than once in ``values``, in order of first repetition."""
    seen, twice = set(), []
    for v in values or []:
        if v in seen and v not in twice:
            twice.append(v)
        seen.add(v)
    return twice


_SEED_ITEM = re.compile(r"(\d+)(?:-(\d+))?", re.ASCII)      # 3 or 0-4
_SEED_LIMITS = f"seeds are integers from 0 to {MAX_SEED:,}, at most {MAX_SEEDS:,} of them"


def list_arg(kind):
    """An argparse type: a comma-separated list of ``kind`` (``models`` or ``seeds``: ``0,1,2``,
    ``0-4``), each item once, no empty item; seeds within :mod:`genzoo.limits`."""
    def parse(text: str):
        items = [t.strip() for t in text.split(",")]
        if not any(items):
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind}")
        if "" in items:
            raise argparse.ArgumentTypeError(f"empty item in --{kind} {_shown(text)}: remove the extra comma")
        if kind == "seeds":
            items = _seeds(items)
        twice = given_twice(items)
        if twice:
            raise argparse.ArgumentTypeError(f"{kind} given twice: {', '.join(map(str, twice))}")
        return items
    return parse


def _seeds(items: list[str]) -> list[int]:
    """The seeds of ``0,1,2`` / ``0-4`` items, counted before the list is built."""
    ranges = [_seed_range(t) for t in items]
    count = sum(b - a + 1 for a, b in ranges)
    if count > MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"{count:,} seeds asked for; {_SEED_LIMITS}")
    return [s for a, b in ranges for s in range(a, b + 1)]


def _seed_range(item: str) -> tuple[int, int]:
    m = _SEED_ITEM.fullmatch(item)
    if m is None:
        raise argparse.ArgumentTypeError(f"bad seed {_shown(item)}: use e.g. 0,1,2 or 0-4 ({_SEED_LIMITS})")
    low, high = m.group(1), m.group(2) or m.group(1)
    for digits in (low, high):          # a length check first: int() of 5,000 digits is itself refused
        if len(digits) > len(str(MAX_SEED)) or int(digits) > MAX_SEED:
            raise argparse.ArgumentTypeError(f"seed {_shown(digits)} is above {MAX_SEED:,}: {_SEED_LIMITS}")
    a, b = int(low), int(high)
    if a > b:
        raise argparse.ArgumentTypeError(f"empty seed range {item!r}: write it low-high, e.g. {b}-{a}")
    return a, b


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text):,} characters)"


def seed_arg(text: str) -> int:
    """An argparse type: one seed, an integer from 0 to limits.MAX_SEED (argparse names the option)."""
    try:
        value = int(text) if len(text) <= 20 else f"{text[:20]}..."
    except ValueError:
        value = text
    try:
        return check_seed(value, "a seed")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
