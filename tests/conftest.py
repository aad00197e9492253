"""Shared fixtures: small real and generated data, tiny benchmark files (:func:`benchmark_toml`,
the ``make_benchmark`` fixture), and a private cache folder for every test run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import genzoo
from genzoo.data import Dataset


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep genzoo's cache (unpacked data, reference statistics) out of the user's home."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GENZOO_CACHE", str(tmp_path_factory.mktemp("genzoo-cache")))
    mp.setenv("WANDB_MODE", "offline")
    mp.setenv("WANDB_SILENT", "true")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def fashion_train() -> Dataset:
    """Real Fashion-MNIST from Debian's dataset-fashion-mnist (or GENZOO_DATA)."""
    return genzoo.data.load("fashion-mnist", split="train")


@pytest.fixture(scope="session")
def fashion_test() -> Dataset:
    """The Fashion-MNIST test split (10,000 images), read once."""
    return genzoo.data.load("fashion-mnist", split="test")


@pytest.fixture(scope="session")
def fashion_small(fashion_train) -> Dataset:
    return fashion_train.subset(512, seed=0)


def bars(n: int, seed: int = 0, channels: int = 1) -> Dataset:
    """A 2-class synthetic image set: class 0 a horizontal bar, class 1 a vertical bar, 4 pixels
    thick at a random position, on a black 28x28 background."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n,), generator=g)
    pos = torch.randint(4, 20, (n,), generator=g)
    x = torch.zeros(n, channels, 28, 28)
    for i in range(n):
        if y[i] == 0:
            x[i, :, pos[i]:pos[i] + 4, :] = 1.0
        else:
            x[i, :, :, pos[i]:pos[i] + 4] = 1.0
    return Dataset("bars", x, y, 2, ("horizontal", "vertical"))


def bar_class(x: torch.Tensor) -> torch.Tensor:
    """0 for images whose energy varies across rows (horizontal bar), 1 across columns."""
    img = x.mean(1)                                                         # (N, 28, 28)
    return (img.mean(1).var(1) > img.mean(2).var(1)).long()                 # column-profile var > row-profile var


@pytest.fixture(scope="session")
def bars_data() -> Dataset:
    return bars(512)


@pytest.fixture(scope="session")
def ring_data() -> Dataset:
    return genzoo.data.load("ring", n=20_000)


# --------------------------------------------------------------------------- tiny benchmark files

POINT_DATASETS = ("ring", "grid")
# the [profiles.<name>] table every tiny benchmark starts from; a setting given to benchmark_toml
# replaces its default in place (None removes it), a new one is added after them
TINY_PROFILE = {"seeds": [0], "preset": "tiny"}
TINY_DATA = {"points": {"dataset_options": {"n": 1000}, "reference_subset": 500},
             "images": {"train_subset": 256, "reference_subset": 256}}
TINY_RUN = {"n_samples": 200, "max_steps": 3, "images": 0}


def toml_value(v) -> str:
    """``v`` written as a TOML value: inline arrays ``[0, 1]`` and tables ``{ n = 500 }``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(f"no TOML value for {v!r}")


def _table(header: str, values: dict) -> list[str]:
    return [f"[{header}]", *(f"{k} = {toml_value(v)}" for k, v in values.items())]


def benchmark_toml(name: str = "tiny", dataset: str = "ring", models=("gan",), *, profile: str = "tiny",
                   model_settings: dict[str, dict] | None = None, family_settings: dict[str, dict] | None = None,
                   sweeps: dict[str, dict] | None = None, extra: str = "", **settings) -> str:
    """The text of a tiny benchmark: ``[benchmark]`` (name, dataset, models) and one profile of
    one seed, the tiny preset, a small data set and a few steps (:data:`TINY_PROFILE`,
    :data:`TINY_DATA`, :data:`TINY_RUN`), whose ``settings`` replace those defaults (None removes
    one); ``model_settings`` / ``family_settings``: ``[profiles.<profile>.models.<model>]`` /
    ``.families.<family>`` tables; ``sweeps``: ``[sweeps.<name>]`` tables; ``extra``: raw TOML
    appended (for the tables a test means to be wrong)."""
    kind = "points" if dataset in POINT_DATASETS else "images"
    values = {**TINY_PROFILE, **TINY_DATA[kind], **TINY_RUN, **settings}
    values = {k: v for k, v in values.items() if v is not None}
    lines = _table("benchmark", {"name": name, "dataset": dataset, "models": list(models)}) + [""]
    lines += _table(f"profiles.{profile}", values)
    for kind_of, tables in (("families", family_settings), ("models", model_settings)):
        for key, table in (tables or {}).items():
            lines += _table(f"profiles.{profile}.{kind_of}.{key}", table)
    for key, table in (sweeps or {}).items():
        lines += ["", *_table(f"sweeps.{key}", table)]
    text = "\n".join(lines) + "\n"
    return text + extra if extra else text


@pytest.fixture(scope="session")
def make_benchmark(tmp_path_factory):
    """``make_benchmark(name, dataset, models, *, folder=None, **benchmark_toml's options) -> Path``:
    writes ``<folder>/<name>.toml`` (:func:`benchmark_toml`) and returns its path; without
    ``folder``, in a new temporary folder of its own, so no two calls share one. Session-scoped,
    for the module-scoped fixtures too: it keeps no state."""
    def make(name: str = "tiny", dataset: str = "ring", models=("gan",), *, folder: str | Path | None = None,
             **options) -> Path:
        where = Path(folder) if folder is not None else tmp_path_factory.mktemp("benchmark")
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"{name}.toml"
        path.write_text(benchmark_toml(name, dataset, models, **options))
        return path
    return make
