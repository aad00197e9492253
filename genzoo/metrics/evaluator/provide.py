"""The evaluator a score needs, by name: the shipped one, one kept in genzoo's cache for the very
data it would be trained on, or one trained now (one line saying so, and where it is kept).

``get_evaluator("mnist", data_dir=DIR)`` reads MNIST's train split (from ``DIR``, else where
``genzoo.data`` finds it), takes its digest (:func:`~genzoo.metrics.evaluator.store.data_digest`)
and looks for ``<cache>/evaluators/mnist-<digest[:16]>.safetensors``; without a valid one it
trains the evaluator (:func:`~genzoo.metrics.evaluator.train.fit`, its recipe's defaults) and
keeps it there. Within a process the result is remembered while the files it came from (the
split's source files, the weights file) are unchanged, so scoring many times reads the data once.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..._io import write_bytes
from .network import EvaluatorCNN
from .specs import EvaluatorSpec, evaluator_spec
from .store import (FORMAT, EvaluatorWeightsError, build, cached_path, data_digest, encode, file_sha256, load_checked,
                    read_metadata)
from .train import TrainConfig, fit, targets_of

_log = logging.getLogger("genzoo.metrics")


@dataclass(frozen=True)
class Evaluator:
    """A ready evaluator: its registry ``name``, its ``network`` (eval mode, CPU; do not modify it
    in place), ``id`` (``<stem>-<sha256[:12]>``: its name in cache keys and records), the
    ``sha256`` of its weights file, its ``test_accuracy`` (None when unknown), the ``path`` of the
    file, and ``trained`` (True when this call trained it)."""

    name: str
    network: EvaluatorCNN = field(repr=False)
    id: str
    sha256: str
    test_accuracy: float | None
    path: Path
    trained: bool = False

    @property
    def spec(self) -> EvaluatorSpec:
        return evaluator_spec(self.name)


def load_file(path: str | os.PathLike, sha256: str | None = None) -> EvaluatorCNN:
    """The network of a weights file; with ``sha256``, the file must have it (else
    :class:`EvaluatorWeightsError`: corrupt, or retrained, so its metrics would not be comparable)."""
    from safetensors.torch import load_file as read_tensors

    path = Path(path)
    if not path.is_file():
        raise EvaluatorWeightsError(
            f"evaluator weights not found at {path}; reinstall genzoo or recreate them with "
            f"`python -m genzoo.metrics.evaluator train fashion-mnist`")
    if sha256 is not None:
        got = file_sha256(path)
        if got != sha256:
            raise EvaluatorWeightsError(
                f"evaluator weights {path} have sha256 {got}, expected {sha256}: the file is corrupt "
                f"or was retrained; metrics computed with it would not be comparable")
    return build(read_metadata(path), read_tensors(str(path)))


@functools.lru_cache(maxsize=None)
def shipped(name: str) -> Evaluator:
    """An evaluator whose weights ship with genzoo, loaded once per process (its sha256 checked)."""
    spec = evaluator_spec(name)
    net = load_file(spec.shipped, spec.shipped_sha256)
    acc = read_metadata(spec.shipped).get("test_accuracy")
    return Evaluator(name, net, f"{spec.stem}-{spec.shipped_sha256[:12]}", spec.shipped_sha256,
                     None if acc is None else float(acc), spec.shipped)


# ------------------------------------------------------------------------------ trained on first use

def _stamp(paths) -> tuple:
    """(path, size, mtime) of each file: what says a remembered result is still that of these files."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


_REMEMBERED: dict[tuple, tuple[tuple, Evaluator]] = {}


def forget() -> None:
    """Forget the evaluators this process remembers: the next :func:`get_evaluator` reads the data
    and genzoo's cache again."""
    _REMEMBERED.clear()


def _key(name: str, data_dir) -> tuple:
    from genzoo.data import cache_root

    return name, None if data_dir is None else str(Path(data_dir).resolve()), os.environ.get("GENZOO_DATA"), \
        str(cache_root())


def _source_files(*datasets) -> list[str] | None:
    """The files the splits were read from (their ``meta["source"]["files"]``); None when one does
    not say (nothing can tell then whether its data changed: not remembered)."""
    files = []
    for ds in datasets:
        source = ds.meta.get("source") or {}
        if not source.get("files"):
            return None
        files += [str(f) for f in source["files"]] + ([str(source["cache"])] if source.get("cache") else [])
    return files


def get_evaluator(name: str, *, data_dir=None, train: bool = True, progress: bool = True,
                  cfg: TrainConfig | None = None, threads: int | None = 1, retrain: bool = False) -> Evaluator:
    """The evaluator ``name`` (:data:`~genzoo.metrics.evaluator.specs.EVALUATORS`) ready to score.

    A shipped one is loaded (and checked against its sha256). Another is looked for in genzoo's
    cache under the digest of its dataset's train split (read with ``data_dir``), and trained on
    that split when it is not there, or is there but fails its checks (``train=False``: an
    :class:`EvaluatorWeightsError` saying how to train it instead). ``cfg`` and ``threads`` set a
    training run (default: the evaluator's recipe, one thread); ``retrain`` trains even when a
    cached file is valid (``python -m genzoo.metrics.evaluator train``)."""
    spec = evaluator_spec(name)
    if spec.shipped is not None:
        return shipped(name)
    key = _key(name, data_dir)
    memo = _REMEMBERED.get(key)
    if memo is not None and not retrain and _stamp([f for f, _, _ in memo[0]]) == memo[0]:
        return memo[1]
    from genzoo.data import load

    split = load(spec.dataset, "train", data_dir=data_dir)
    digest = data_digest(split.x, targets_of(split, spec))
    path = cached_path(name, digest)
    got = "not asked for" if retrain else load_checked(path, digest)
    if isinstance(got, tuple):
        net, meta = got
        sha, acc, trained = file_sha256(path), meta.get("test_accuracy"), False
    elif not train:
        raise EvaluatorWeightsError(
            f"no {name} evaluator for this {spec.dataset} data in genzoo's cache ({path}: {got}); train it "
            f"with `python -m genzoo.metrics.evaluator train {name}"
            f"{'' if data_dir is None else f' --data-dir {data_dir}'}`")
    else:
        if not retrain:
            why = "" if got == "absent" else f" (the cached file is {got})"
            _log.warning("no %s evaluator for this %s data yet%s: training it now on its train split; it will be "
                         "kept in %s", name, spec.dataset, why, path)
        test = load(spec.dataset, "test", data_dir=data_dir)
        net, info = fit(spec, split, test, cfg, threads=threads, progress=progress)
        data = encode(net, info, extra={"format": FORMAT, "evaluator": name, "dataset": spec.dataset,
                                        "data_sha256": digest})
        sha, acc, trained = hashlib.sha256(data).hexdigest(), round(info["test_accuracy"], 4), True
        try:
            write_bytes(path, data)
        except OSError as exc:         # a cache that cannot be written must not stop the scoring
            _log.warning("could not keep the %s evaluator in %s (%s): it is used by this process only",
                         name, path.parent, exc.strerror or type(exc).__name__)
    ev = Evaluator(name, net, f"{spec.stem}-{sha[:12]}", sha, None if acc is None else float(acc), path, trained)
    files = _source_files(split)
    if files is not None:
        _REMEMBERED[key] = (_stamp(files + [str(path)]), replace(ev, trained=False))
    return ev
