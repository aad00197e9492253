"""The results folder of a benchmark, ``<out>/<benchmark>/runs/``: what is recorded there, and the
one writer of a run's folder (:func:`commit_run`, called by the process that holds the run's lock,
:mod:`genzoo.bench.locks`)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from . import artifacts
from .record import RunRecord, read_record
from .runspec import RunSpec


@dataclass(frozen=True)
class RunOutput:
    """What a run returns: its record and its files (path in the run folder -> bytes), written
    into the results folder by the driver only (:func:`commit_run`)."""

    record: RunRecord
    files: dict


def run_state(runs_dir: Path, spec: RunSpec, force: bool = False) -> tuple[str, RunRecord | None]:
    """``("todo", None)``, ``("done", record)`` or ``("conflict", record)``: a finished run of
    another plan (profile, overrides, settings) sits where this one would be written."""
    rec = None if force else read_record(runs_dir / spec.run_id)
    if rec is None:
        return "todo", None
    return ("done" if rec.fingerprint == spec.fingerprint() else "conflict"), rec


def conflict_error(runs_dir: Path, spec: RunSpec, rec: RunRecord) -> UserError:
    """The error for a ``"conflict"`` of :func:`run_state`."""
    return UserError(
        f"{runs_dir / spec.run_id} holds a finished run of a different plan "
        f"(profile {rec.profile!r}, fingerprint {rec.fingerprint}) "
        f"than profile {spec.profile!r} asks for ({spec.fingerprint()}); pass --force to redo it, "
        f"or --out to write elsewhere")


def check_writable(folder: Path, what: str = "--out") -> None:
    """Fail fast, with one line, when ``folder`` cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = artifacts.tmp_path_beside(folder / "write-test")
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{what} {folder}: a file is in the way (it must be a folder)") from None
    except OSError as exc:
        raise UserError(f"{what} {folder}: cannot write there ({exc.strerror or exc})") from None


def commit_run(runs_dir: Path, output: RunOutput) -> RunRecord:
    """Write a run's files and record into ``runs_dir/<run_id>/`` (the driver's job): all of them
    into a temporary folder beside it, which then replaces the run's folder; the record is
    therefore there only with every file of the run."""
    rec = output.record
    run_dir = Path(runs_dir) / rec.run_id
    stage = artifacts.tmp_dir_beside(run_dir)
    try:
        for name, data in output.files.items():
            artifacts.write_bytes(stage / name, data)        # each file on disk (fsync) before the record
        artifacts.write_json(stage / "record.json", rec.to_dict())
        (run_dir / "record.json").unlink(missing_ok=True)    # a kill from here on leaves no record
        if run_dir.exists():
            shutil.rmtree(run_dir)                            # what a killed or forced run left
        os.replace(stage, run_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return rec


def write_error(runs_dir: Path, run_id: str, story: str) -> None:
    """The traceback of a run that has no record (the machine failed), in its ``error.txt``, for
    whoever fixes the machine (best effort: the disk may be what failed)."""
    try:
        artifacts.write_bytes(Path(runs_dir) / run_id / "error.txt", story.encode())
    except OSError:
        pass


def forget(runs_dir: Path, run_id: str) -> None:
    """Remove the record a forced run replaces, as it starts (a kill then leaves no record)."""
    (Path(runs_dir) / run_id / "record.json").unlink(missing_ok=True)
