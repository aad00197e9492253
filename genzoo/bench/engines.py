"""The engines that do a bench's runs, behind one small interface (:class:`Executor`), chosen by name
(:data:`ENGINES`): ``local`` does each run in this process, one after another; ``ray`` does them as
Ray tasks (:mod:`genzoo.bench.ray_engine`). The scheduler (:mod:`genzoo.bench.schedule`) locks the
runs, records what comes back and reports it, whichever engine does them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from ..errors import UserError
from .context import RunContext
from .environment import resolve_device
from .execute import Outcome, execute_group
from .ray_engine import RayEngine, RayOptions, import_ray
from .record import RunRecord
from .runspec import RunSpec

ENGINES = ("local", "ray")

Starting = Callable[[RunSpec], bool]     # called as a run starts here; False: the bench stops, do not start it


class Executor(Protocol):
    """An engine, as the scheduler uses it (a context manager: entered before the first run)."""

    name: str
    workers: int | None          # runs at once (None until entered, when the engine must look)
    line: str                    # what the engine says of itself once entered ("": nothing)

    def __enter__(self) -> "Executor": ...

    def __exit__(self, *exc) -> None: ...

    def run(self, groups: Iterable[list[RunSpec]], starting: Starting) -> Iterator[Outcome]:
        """Do each group of runs (one run, or seeds trained together) taken from ``groups``, and
        yield each run's :class:`Outcome` as it comes. ``groups`` is lazy: it locks the runs as
        the engine takes them, so an engine takes a group only when it has room for it."""

    def committed(self, rec: RunRecord, run_dir: Path) -> RunRecord:
        """What the engine does with a run's record once it is written in ``run_dir`` (returns
        the record, as it then is)."""


class LocalEngine:
    """The runs in this process, one after another; each run's W&B run is logged live."""

    name = "local"
    line = ""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.workers = 1

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def run(self, groups: Iterable[list[RunSpec]], starting: Starting) -> Iterator[Outcome]:
        for group in groups:
            yield from self._group(group, starting)

    def _group(self, group: list[RunSpec], starting: Starting) -> Iterator[Outcome]:
        if not starting(group[0]):
            return
        yield from execute_group(group, self.ctx, starting)

    def committed(self, rec: RunRecord, run_dir: Path) -> RunRecord:
        return rec                   # its W&B run was logged as it ran


def planned_workers(name: str) -> int | None:
    """How many runs at once engine ``name`` does, when that is known before it starts (None:
    the Ray engine looks at its cluster)."""
    return 1 if name == "local" else None


def choose_engine(name: str, ray: RayOptions | None, device: str) -> tuple[RayOptions | None, str]:
    """Check the engine and its options before any work: ``(ray options, the runs' device)``
    (``device`` resolved: ``auto`` is CUDA when present; a run on Ray with a share of a GPU uses
    CUDA). ``ray`` without Ray installed: a one-line error saying how to install it."""
    if name not in ENGINES:
        raise UserError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    device = resolve_device(device)
    if name != "ray":
        return None, device
    import_ray()                               # not installed: say how, before any work
    ray = ray or RayOptions()
    ray.check()
    return ray, ray.device(device)


def open_executor(name: str, ctx: RunContext, todo: list[RunSpec], ray: RayOptions | None = None) -> Executor:
    """The engine ``name`` for the runs of ``todo``, in context ``ctx`` (not entered yet)."""
    if name == "ray":
        return RayEngine(ctx, todo, ray or RayOptions())
    return LocalEngine(ctx)
