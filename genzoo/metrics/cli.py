"""``genzoo score MODEL_DIR --reference fashion-mnist``: score a saved model (or a saved sample tensor)."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    from .._args import seed_arg      # light: the parsers import no torch

    p = subparsers.add_parser(
        "score", help="score a saved model against a reference dataset",
        description="Score a model folder (written by save_pretrained) or a .pt tensor of samples.")
    p.add_argument("model_dir", help="model folder (config.json + model.safetensors) or a .pt file of samples")
    p.add_argument("--reference", required=True, help="dataset name, e.g. fashion-mnist, ring")
    p.add_argument("--split", default="test", help="reference split (default: test)")
    p.add_argument("--n", type=int, default=None, help="number of samples (default: per dataset, e.g. 10000)")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: the dataset's defaults)")
    p.add_argument("--seed", type=seed_arg, default=0, help="sampling seed (default 0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto (default cpu)")
    p.add_argument("--inception-weights", default=None, help="InceptionV3 weights file for the *_inception metrics")
    p.add_argument("--data-dir", default=None,
                   help="folder holding the reference's files (and those its evaluator trains on, the first time)")
    p.add_argument("--evaluator", default=None,
                   help="evaluator to score images with instead of the reference's own (fashion-mnist, mnist, cifar10, "
                        "celeba64)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="load the model without checking its weights file against the sha256 in its config.json")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the scores as JSON")
    p.set_defaults(func=run)
    return p


def _user_error():
    try:
        from genzoo.errors import UserError
    except ImportError:       # the package is being assembled: fall back to the base class
        UserError = Exception
    return UserError


def _samples_or_model(path: Path, verify: bool = True):
    import torch

    UserError = _user_error()
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if path.is_file():
        if path.suffix != ".pt":
            raise UserError(f"{path} is a file but not a .pt tensor of samples")
        try:
            with warnings.catch_warnings():        # torch warns about pickle protocols: one line only
                warnings.simplefilter("ignore")
                x = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:   # junk bytes, a pickle of other objects, a truncated zip: many types
            raise UserError(f"{path} is not a tensor file written by torch.save ({_reason(exc)})") from None
        if not isinstance(x, torch.Tensor):
            raise UserError(f"{path} is not a tensor file written by torch.save "
                            f"(it holds a {type(x).__name__}, not a tensor of samples)")
        return x.float() / 255 if x.dtype == torch.uint8 else x   # uint8 images: 0..255
    if not (path / "config.json").is_file():
        raise UserError(f"{path} holds no config.json: not a genzoo model folder")
    import genzoo

    return genzoo.load(path, verify=verify)      # a damaged folder raises CheckpointError (a UserError) naming the file


def _reason(exc: BaseException) -> str:
    """An exception as a short phrase on one line: its type and the first sentence of its message."""
    text = " ".join(str(exc).split())
    text = text.split(". ")[0][:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run(args) -> int:
    import genzoo.data

    from .score import score

    UserError = _user_error()
    if args.reference not in genzoo.data.list_datasets():
        raise UserError(f"unknown reference {args.reference!r}; choose one of {genzoo.data.list_datasets()}")
    if args.n is not None and args.n < 2:
        raise UserError(f"--n must be at least 2, got {args.n}")
    from genzoo.models.base import resolve_device

    try:                                                # before any work: cuda on a CPU-only machine
        resolve_device(args.device)
    except ValueError as exc:
        raise UserError(f"--device {args.device}: {exc}") from None
    out = Path(args.json_out) if args.json_out else None
    if out is not None:
        if out.is_dir():
            raise UserError(f"--json {out} is a folder; give a file name")
        parent = next((p for p in out.absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise UserError(f"--json {out}: {parent} is a file, not a folder")
    info = genzoo.data.dataset_info(args.reference)
    if args.split not in info.splits:
        raise UserError(f"--split {args.split}: {args.reference} has the splits {', '.join(info.splits)}")
    options = {}
    if args.data_dir is not None:
        where = next((o for o in ("data_dir", "folder") if o in info.options), None)
        if where is None:
            raise UserError(f"--data-dir: {args.reference} is not read from files")
        options[where] = args.data_dir
    target = _samples_or_model(Path(args.model_dir), verify=args.verify)
    reference = genzoo.data.load(args.reference, split=args.split, **options)
    try:
        scores = score(target, reference, args.metrics, n=args.n, seed=args.seed, device=args.device,
                       inception_weights=args.inception_weights, evaluator=args.evaluator)
    except (ValueError, FileNotFoundError) as exc:      # too few or non-finite samples, unknown metric, bad path
        raise UserError(f"{args.model_dir}: {exc}") from None
    print(scores.table())
    if out is not None:
        from genzoo._io import write_text

        doc = {"model": str(args.model_dir), "reference": args.reference, "split": args.split,
               "seed": args.seed, **scores.to_json()}
        try:
            write_text(out, json.dumps(doc, indent=2) + "\n")
        except OSError as exc:
            raise UserError(f"--json {out}: cannot write it ({exc.strerror or exc})") from None
    return 0
