"""nox sessions for genzoo: ``tests`` (the default), ``bench-fashion``, ``bench-modes``, ``bench-stacked``,
``bench-mnist``, ``bench-stacked-mnist``, ``bench-cifar10``, ``bench-celeba64``, ``sweep-fashion`` and
``speed``.

    nox                                   # = nox -s tests  (pytest -q)
    nox -s tests -- -x -k bench           # pytest options after --
    nox -s bench-fashion                  # quick profile, then `genzoo report fashion`
    nox -s bench-modes -- --profile paper --device cuda --seeds 0-4 --wandb-project my-proj
    nox -s bench-fashion -- --profile paper --device cuda --gpus-per-run 0.0625   # 16 runs at once per GPU
    nox -s bench-fashion -- --engine local   # one run after another in one process, without Ray
    nox -s bench-fashion -- --models gan,wgan --no-wandb --out /tmp/results --force
    nox -s bench-cifar10 -- --data-dir ~/data/cifar10   # the folder holding cifar-10-batches-py/
    nox -s speed -- --models dcgan,wgan --steps 100  # genzoo against a plain PyTorch loop -> results/speed/
    nox -s sweep-fashion -- --out results           # Lucic et al.'s random search (quick on a CPU)

Everything after ``--`` goes to ``genzoo bench`` (bench sessions) or ``pytest`` (tests). The bench
sessions pass ``--engine ray`` unless given ``--engine``: the runs as Ray tasks on a local Ray
instance sized to the machine (one run per CPU core, each with one thread; 16 per GPU), or on the
cluster RAY_ADDRESS names.

One virtualenv for all three sessions. torch alone is gigabytes, so instead of nox's usual
venv per session, every session here runs in one shared venv, ``.nox/genzoo`` (GENZOO_NOX_VENV
moves it), created with the interpreter running nox and holding an editable install of
``.[test]``. It is (re)installed only when it is missing or pyproject.toml changed (a stamp
file in the venv records what was installed), so the second session, or the same one run again,
starts at once. ``nox --no-venv``-style reuse is therefore the default; delete .nox/genzoo to
start afresh.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"          # in case a session ever gets a venv of nox's own
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("GENZOO_NOX_VENV", ROOT / ".nox" / "genzoo"))
EXTRAS = "test"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
MODES_BENCHMARKS = ("modes-ring", "modes-grid", "pattern-1010")


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def _wanted_stamp() -> str:
    h = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    h.update(f"extras={EXTRAS};python={sys.version_info[:2]}".encode())
    return h.hexdigest()


def shared_env(session: nox.Session) -> dict:
    """Create / update the shared venv; returns the environment that runs inside it."""
    py = _python()
    if not py.exists():
        session.log(f"creating the shared venv {VENV}")
        session.run(sys.executable, "-m", "venv", str(VENV), external=True)
    stamp = VENV / ".genzoo-installed"
    want = _wanted_stamp()
    if not stamp.exists() or stamp.read_text().strip() != want:
        session.log(f"installing genzoo[{EXTRAS}] (editable) and its dependencies into {VENV}")
        session.run(str(py), "-m", "pip", "install", "--disable-pip-version-check", "-e", f".[{EXTRAS}]",
                    external=True)
        stamp.write_text(want + "\n")
    else:
        session.log(f"reusing the shared venv {VENV} (pyproject.toml unchanged)")
    env = {"VIRTUAL_ENV": str(VENV), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
        # torch's OpenMP threads spin ~300k iterations waiting for each other by default; on a
        # 2-core machine that something else also uses, the spinning thread starves the one it
        # waits for and small CPU ops get 5-30x slower. A short spin costs nothing measurable on
        # an idle machine and halves that loss (OMP_WAIT_POLICY=PASSIVE avoids it entirely on
        # a busy machine, but is up to 2x slower on an idle one; set it yourself if yours is busy)
        env["GOMP_SPINCOUNT"] = "10000"
    return env


def _run_in(session: nox.Session, env: dict, program: str, *args: str) -> None:
    session.run(str(BIN / program), *args, env=env, external=True)


def _out_dir(posargs: list[str]) -> str:
    """The --out the bench command will use, so the report reads the same folder."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--out", default="out")
    known, _ = p.parse_known_args(posargs)
    return known.out


def _with_engine(args: list[str]) -> list[str]:
    if not any(a == "--engine" or a.startswith("--engine=") for a in args):
        args = args + ["--engine", "ray"]   # a run per core at once (16 per GPU): see `genzoo bench --help`
    return args


def _bench(session: nox.Session, benchmarks: tuple[str, ...]) -> None:
    env = shared_env(session)
    args = _with_engine(list(session.posargs))
    _run_in(session, env, "genzoo", "bench", *benchmarks, *args)
    if {"--dry-run", "--list", "-h", "--help"} & set(args):
        return
    for name in benchmarks:
        _run_in(session, env, "genzoo", "report", name, "--results", _out_dir(args))


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The import layering (lint-imports, pyproject.toml's [tool.importlinter]), then pytest
    (default -q), in the shared venv."""
    env = shared_env(session)
    _run_in(session, env, "lint-imports", "--no-cache")
    session.run(str(_python()), "-m", "pytest", *(session.posargs or ["-q"]), env=env, external=True)


@nox.session(name="bench-fashion", venv_backend="none")
def bench_fashion(session: nox.Session) -> None:
    """The models on Fashion-MNIST (benchmarks/fashion.toml), then its report."""
    _bench(session, ("fashion",))


@nox.session(name="bench-modes", venv_backend="none")
def bench_modes(session: nox.Session) -> None:
    """The mode-collapse study on the 2-D ring and grid (collapse and its remedies) and the GAN
    equilibrium on the 1010 pattern, then their reports."""
    _bench(session, MODES_BENCHMARKS)


@nox.session(name="bench-stacked", venv_backend="none")
def bench_stacked(session: nox.Session) -> None:
    """Mode collapse on Stacked Fashion-MNIST (1,000 modes), then its report."""
    _bench(session, ("modes-stacked",))


@nox.session(name="bench-mnist", venv_backend="none")
def bench_mnist(session: nox.Session) -> None:
    """The models on MNIST (benchmarks/mnist.toml), then its report."""
    _bench(session, ("mnist",))


@nox.session(name="bench-stacked-mnist", venv_backend="none")
def bench_stacked_mnist(session: nox.Session) -> None:
    """Mode collapse on Stacked MNIST (1,000 modes, VEEGAN / PacGAN's protocol), then its report."""
    _bench(session, ("stacked-mnist",))


@nox.session(name="bench-cifar10", venv_backend="none")
def bench_cifar10(session: nox.Session) -> None:
    """The models on CIFAR-10 (benchmarks/cifar10.toml), then its report."""
    _bench(session, ("cifar10",))


@nox.session(name="bench-celeba64", venv_backend="none")
def bench_celeba64(session: nox.Session) -> None:
    """The unconditional models on CelebA 64x64 (benchmarks/celeba64.toml), then its report."""
    _bench(session, ("celeba64",))


@nox.session(name="sweep-fashion", venv_backend="none")
def sweep_fashion(session: nox.Session) -> None:
    """`genzoo sweep fashion`: the hyper-parameter random search of Lucic et al. 2018 ([sweeps.*] in
    benchmarks/fashion.toml; quick on a CPU, paper on a GPU) and its report."""
    env = shared_env(session)
    _run_in(session, env, "genzoo", "sweep", "fashion", *_with_engine(list(session.posargs)))


@nox.session(venv_backend="none")
def speed(session: nox.Session) -> None:
    """`genzoo speed`: training speed of every model against a plain PyTorch loop, side by side."""
    env = shared_env(session)
    _run_in(session, env, "genzoo", "speed", *session.posargs)
