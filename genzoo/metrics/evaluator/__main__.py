"""``python -m genzoo.metrics.evaluator train | accuracy [DATASET]``: train an evaluator, or check one.

``train fashion-mnist`` rebuilds the shipped file; ``train mnist`` (or ``cifar10``, ``celeba64``, or
a dataset that declares one of them, e.g. ``stacked-mnist``) trains that evaluator on the dataset's
train split (``--data-dir``: where its files are) and keeps it in genzoo's cache, where scoring
finds it. Seeded and deterministic (one thread by default); a one-line summary at the end.
"""

from __future__ import annotations

import argparse
import sys


def _train(args, spec) -> int:
    from .provide import get_evaluator
    from .specs import WEIGHTS_SHA256
    from .store import save_weights
    from .train import config_for, train_evaluator

    cfg = config_for(spec, epochs=args.epochs, seed=args.seed, width=args.width, lr=args.lr,
                     batch_size=args.batch_size)
    if spec.shipped is None:
        ev = get_evaluator(spec.name, data_dir=args.data_dir, cfg=cfg, threads=args.threads, retrain=True)
        print(f"{spec.name} evaluator: test accuracy {ev.test_accuracy:.4f}, sha256 {ev.sha256}; kept in {ev.path}")
        return 0
    out = args.out or str(spec.shipped)
    model, info = train_evaluator(cfg, evaluator=spec.name, threads=args.threads, device=args.device,
                                  data_dir=args.data_dir)
    sha = save_weights(model, out, info)
    print(f"{spec.name} evaluator: test accuracy {info['test_accuracy']:.4f}, sha256 {sha}; wrote {out} "
          f"in {info['train_time_s']:.0f} s")
    if sha != WEIGHTS_SHA256:
        print(f"sha256 {sha} differs from WEIGHTS_SHA256 in genzoo/metrics/evaluator/specs.py; "
              f"update it if this file is to ship")
    return 0


def _accuracy(args, spec) -> int:
    from genzoo.data import load

    from . import get_evaluator, load_evaluator
    from .train import accuracy, targets_of

    if args.weights:
        model = load_evaluator(args.weights, sha256=spec.shipped_sha256 if args.weights == str(spec.shipped) else None)
    else:
        model = get_evaluator(spec.name, data_dir=args.data_dir, train=False).network
    test = load(spec.dataset, "test", data_dir=args.data_dir)
    print(f"{spec.name} evaluator: test accuracy {accuracy(model, test.x, targets_of(test, spec)):.4f}"
          f"{f' ({args.weights})' if args.weights else ''}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def main(argv=None) -> int:
    from ..._args import seed_arg
    from .specs import EVALUATORS, spec_for

    names = ", ".join(EVALUATORS)
    p = argparse.ArgumentParser(prog="python -m genzoo.metrics.evaluator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train an evaluator on its dataset's train split")
    t.add_argument("dataset", nargs="?", default="fashion-mnist",
                   help=f"evaluator ({names}) or a dataset that declares one (default: fashion-mnist)")
    t.add_argument("--data-dir", default=None, help="folder holding the dataset's files (default: where genzoo finds them)")
    t.add_argument("--out", default=None, help="fashion-mnist only: weights file to write (default: the shipped one); "
                                               "the others are kept in genzoo's cache")
    t.add_argument("--epochs", type=_positive, default=None, help="training epochs (default: the evaluator's recipe)")
    t.add_argument("--seed", type=seed_arg, default=0, help="training seed (default 0)")
    t.add_argument("--width", type=_positive, default=None, help="width of the first conv block (default: the recipe's)")
    t.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    t.add_argument("--batch-size", type=_positive, default=None, help="images per step (default 128)")
    t.add_argument("--threads", type=_positive, default=1,
                   help="CPU threads (default 1): results depend on the thread count, so it is fixed "
                        "for a bit-for-bit reproducible file")
    t.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    t.set_defaults(func=_train)
    a = sub.add_parser("accuracy", help="test-split accuracy of an evaluator (its cached or shipped file, or --weights)")
    a.add_argument("dataset", nargs="?", default="fashion-mnist", help=f"evaluator ({names}) or a dataset")
    a.add_argument("--weights", default=None, help="a weights file (default: the shipped or cached one)")
    a.add_argument("--data-dir", default=None, help="folder holding the dataset's files")
    a.set_defaults(func=_accuracy)
    args = p.parse_args(argv)
    try:
        spec = spec_for(args.dataset)
    except ValueError as exc:
        p.error(str(exc))
    if args.command == "train" and args.out and spec.shipped is None:
        p.error(f"--out: the {spec.name} evaluator is kept in genzoo's cache, where scoring finds it; "
                f"only the shipped fashion-mnist file is written where you choose")
    from genzoo.errors import UserError

    from .store import EvaluatorWeightsError

    try:
        return args.func(args, spec)
    except (UserError, EvaluatorWeightsError) as exc:      # missing or corrupt data: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
