"""Read a wandb run back from its local folder (``.../wandb/offline-run-*/``), without a server.

wandb >= 0.20 (wandb-core) keeps an offline run's data only in its transaction log,
``run-<id>.wandb``: a LevelDB-style log of protobuf ``Record`` messages (wandb's own
``wandb.proto.wandb_internal_pb2.Record``). Older wandb also wrote ``files/wandb-summary.json``
and ``files/config.yaml``; this reader uses the log, and those files only when there is no log.

Log layout: a 7-byte header (``:W&B``, magic 0xBEE1 little-endian, version 0), then 32 KiB blocks
of chunks, each ``crc32 (uint32 LE) | length (uint16 LE) | type (1 full, 2 first, 3 middle,
4 last)`` followed by ``length`` bytes; a block tail shorter than a chunk header is zero padding.
The checksum is zlib's CRC-32 of the type byte and the data.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HEADER = b":W&B"
HEADER_LEN = 7
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class CorruptLogError(ValueError):
    pass


def iter_log_records(path: str | Path):
    """The raw record payloads of a ``.wandb`` transaction log, in order. A torn tail (the
    writer was killed mid-record) ends the iteration; a bad checksum raises CorruptLogError."""
    data = Path(path).read_bytes()
    if data[:4] != HEADER or len(data) < HEADER_LEN:
        raise CorruptLogError(f"{path} is not a wandb transaction log")
    pos, pending = HEADER_LEN, None
    while pos + CHUNK_HEADER <= len(data):
        room = BLOCK - pos % BLOCK
        if room < CHUNK_HEADER:       # block trailer padding
            pos += room
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if crc == 0 and length == 0 and kind == 0:  # zero-filled rest of a block
            pos += room
            continue
        start, end = pos + CHUNK_HEADER, pos + CHUNK_HEADER + length
        if end > len(data):
            return                    # torn write at the end
        chunk = data[start:end]
        if zlib.crc32(bytes([kind]) + chunk) & 0xFFFFFFFF != crc:
            raise CorruptLogError(f"{path}: checksum mismatch at byte {pos}")
        pos = end
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE and pending is not None:
            pending += chunk
        elif kind == LAST and pending is not None:
            yield pending + chunk
            pending = None


def _item_key(item) -> list[str]:
    return list(item.nested_key) if len(item.nested_key) else [item.key]


def _apply_update(target: dict, rec) -> None:
    """Apply a config or summary record (``update`` items, then ``remove`` items) to ``target``."""
    for item in rec.update:
        _set_nested(target, _item_key(item), json.loads(item.value_json))
    for item in rec.remove:
        target.pop(_item_key(item)[0], None)


def _set_nested(d: dict, keys: list[str], value) -> None:
    for k in keys[:-1]:
        nxt = d.get(k)
        if not isinstance(nxt, dict):
            nxt = d[k] = {}
        d = nxt
    d[keys[-1]] = value


@dataclass
class OfflineRun:
    """What a run logged: its identity, config, history rows, summary, and the folder."""

    dir: Path
    run_id: str = ""
    project: str = ""
    group: str = ""
    job_type: str = ""
    name: str = ""
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    finished: bool = False
    exit_code: int | None = None

    def history_keys(self) -> set[str]:
        return {k for row in self.history for k in row}

    def table(self, key: str) -> dict:
        """A logged ``wandb.Table``: ``{"columns": [...], "data": [[...], ...]}`` from its file."""
        ref = self.summary.get(key)
        if not isinstance(ref, dict) or "path" not in ref:
            for row in reversed(self.history):
                if isinstance(row.get(key), dict) and "path" in row[key]:
                    ref = row[key]
                    break
        if not isinstance(ref, dict) or "path" not in ref:
            raise KeyError(f"no table {key!r} logged in run {self.run_id} ({self.dir})")
        return json.loads((self.dir / "files" / ref["path"]).read_text())


def read_run(run_dir: str | Path) -> OfflineRun:
    """Read one local run folder (offline or online) back from disk."""
    run_dir = Path(run_dir)
    out = OfflineRun(dir=run_dir)
    logs = sorted(run_dir.glob("run-*.wandb"))
    if not logs:
        return _read_legacy_files(out)
    from wandb.proto import wandb_internal_pb2 as pb

    for raw in iter_log_records(logs[0]):
        rec = pb.Record()
        rec.ParseFromString(raw)
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            r = rec.run
            out.run_id, out.project, out.group = r.run_id, r.project, r.run_group
            out.job_type, out.name = r.job_type, r.display_name
            for item in r.config.update:
                _set_nested(out.config, _item_key(item), json.loads(item.value_json))
        elif kind == "config":
            _apply_update(out.config, rec.config)
        elif kind == "history":
            row: dict = {}
            for item in rec.history.item:
                _set_nested(row, _item_key(item), json.loads(item.value_json))
            out.history.append(row)
        elif kind == "summary":
            _apply_update(out.summary, rec.summary)
        elif kind == "files":
            out.files += [f.path for f in rec.files.files]
        elif kind == "exit":
            out.finished, out.exit_code = True, rec.exit.exit_code
    out.config.pop("_wandb", None)
    out.summary.pop("_wandb", None)
    return out


def _read_legacy_files(out: OfflineRun) -> OfflineRun:
    files = out.dir / "files"
    summary = files / "wandb-summary.json"
    if summary.is_file():
        out.summary = json.loads(summary.read_text())
    history = files / "wandb-history.jsonl"
    if history.is_file():
        out.history = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    config = files / "config.yaml"
    if config.is_file():
        import yaml  # wandb depends on PyYAML

        raw = yaml.safe_load(config.read_text()) or {}
        out.config = {k: (v.get("value") if isinstance(v, dict) and "value" in v else v)
                      for k, v in raw.items() if k != "_wandb"}
    return out


def find_runs(wandb_dir: str | Path) -> list[OfflineRun]:
    """Every run folder under a ``wandb/`` folder, oldest first."""
    dirs = sorted(p for p in Path(wandb_dir).glob("*run-*") if p.is_dir())
    return [read_run(d) for d in dirs]
