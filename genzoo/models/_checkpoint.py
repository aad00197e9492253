"""Tamper-evident model folders: ``save_pretrained`` records the sha256 and size of each weights
file in ``config.json`` (``"files": {"model.safetensors": {"sha256": ..., "bytes": ...}}``) and
loading checks them, so a weights file changed after it was written (a flipped byte still parses:
safetensors checks the structure, not the values) is refused instead of sampling garbage.

Folders written before the hashes were recorded (no ``"files"``) load as they always did, silently.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import CheckpointError


def file_record(data: bytes) -> dict:
    """What ``config.json`` records of a file written with ``data``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def recorded(meta: dict, cfg_path: Path, name: str) -> dict | None:
    """The record of file ``name`` in config.json's ``files``; None for a folder written before
    the records (no ``files``); CheckpointError for a ``files`` that is not what save_pretrained writes."""
    files = meta.get("files")
    if files is None:
        return None
    entry = files.get(name) if isinstance(files, dict) else None
    sha = entry.get("sha256") if isinstance(entry, dict) else None
    size = entry.get("bytes") if isinstance(entry, dict) else None
    if not (_is_sha256(sha) and isinstance(size, int) and not isinstance(size, bool) and size >= 0):
        raise CheckpointError(f"{cfg_path}: 'files' must record {name!r} as {{\"sha256\": 64 hex digits, "
                              f"\"bytes\": its size}}, got {files!r:.200}")
    return entry


def verify(path: Path, data: bytes, entry: dict | None) -> None:
    """CheckpointError, in one line, when ``data`` (the bytes of ``path``) is not what ``entry`` records."""
    if entry is None:
        return
    got = hashlib.sha256(data).hexdigest()
    if got == entry["sha256"] and len(data) == entry["bytes"]:
        return
    size = "" if len(data) == entry["bytes"] else f", {len(data):,} bytes against {entry['bytes']:,}"
    raise CheckpointError(f"{path} was changed after it was saved: its sha256 is {got[:12]}..., config.json "
                          f"records {entry['sha256'][:12]}...{size}; genzoo.load({str(path.parent)!r}, verify=False) "
                          f"(genzoo score --no-verify) loads it without this check")


def _is_sha256(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
