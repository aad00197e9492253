"""What a run is done with: :class:`RunContext`, the same for every run of one bench in one process
(the driver's, or a Ray worker's)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..training import total_steps
from ..training.compile import resolve_compile
from .data import Data
from .environment import GitState, versions
from .times import say
from .tracking.session import WandbSession


@dataclass(frozen=True)
class RunContext:
    """The device, data, W&B session and provenance (versions, git state) of the runs of one bench,
    and the engine and torch threads they run with; a run is :func:`genzoo.bench.execute.execute_run`
    of its spec in such a context."""

    device: str
    data: Data | None
    session: WandbSession | None         # the runs' W&B session (None: W&B off)
    versions: dict
    git: GitState = GitState()
    engine: str = "local"                # recorded as the record's engine
    threads: int | None = None           # torch threads a run uses (None: this process's, when it starts)
    quiet: bool = False
    compile: str = "off"                 # the bench's --compile: auto, on, off (genzoo.training.compile)

    def say(self, line: str) -> None:
        say(line, self.quiet)

    def shipped(self) -> "RunContext":
        """What a Ray task gets of this context (the data travel by the object store, W&B stays here)."""
        return dataclasses.replace(self, data=None, session=None, quiet=True)

    def in_worker(self, data: Data) -> "RunContext":
        """A shipped context in the worker: its data, the worker's versions, and W&B off (the driver
        logs the runs)."""
        session = WandbSession(project=None, group=data.bench.name, root=Path("."), enabled=False)
        return dataclasses.replace(self, data=data, session=session, versions=versions(), quiet=True)

    def compiles(self, model, train) -> bool:
        """Whether a fit of ``model`` on ``train`` is asked to compile (``compile``:
        :func:`~genzoo.training.compile.resolve_compile` of its steps on this device; a model that
        cannot be compiled then trains eagerly, and its record says why)."""
        return resolve_compile(self.compile, self.device, total_steps(model, len(train)))

    def tracking_session(self) -> WandbSession:
        """The session a run starts its W&B run in (a disabled one when there is none)."""
        if self.session is not None:
            return self.session
        return WandbSession(project=None, group="", root=Path("."), enabled=False)
