"""``python -m genzoo.metrics.evaluator train | accuracy``: (re)build or check the evaluator."""

from __future__ import annotations

import argparse
import json
import sys

from . import WEIGHTS_PATH, WEIGHTS_SHA256, load_evaluator


def _train(args) -> int:
    from .train import TrainConfig, save_weights, train_evaluator

    cfg = TrainConfig(epochs=args.epochs, seed=args.seed, width=args.width, lr=args.lr)
    model, info = train_evaluator(cfg, threads=args.threads, device=args.device)
    sha = save_weights(model, args.out, info)
    info["sha256"] = sha
    print(json.dumps(info, indent=2))
    print(f"test accuracy {info['test_accuracy']:.4f}; wrote {args.out} in {info['train_time_s']:.0f} s")
    if sha != WEIGHTS_SHA256:
        print(f"sha256 {sha} differs from WEIGHTS_SHA256 in genzoo/metrics/evaluator/__init__.py; "
              f"update it if this file is to ship")
    return 0


def _accuracy(args) -> int:
    from genzoo.data import load

    from .train import accuracy

    model = load_evaluator(args.weights, sha256=None if args.weights != str(WEIGHTS_PATH) else WEIGHTS_SHA256)
    test = load("fashion-mnist", "test")
    print(f"test accuracy {accuracy(model, test.x, test.y):.4f} ({args.weights})")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genzoo.metrics.evaluator", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the evaluator CNN on the Fashion-MNIST train split")
    t.add_argument("--out", default=str(WEIGHTS_PATH), help="weights file to write (default: the shipped one)")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--width", type=int, default=20)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--threads", type=int, default=1,
                   help="CPU threads (default 1): results depend on the thread count, so it is fixed "
                        "for a bit-for-bit reproducible file")
    t.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    t.set_defaults(func=_train)
    a = sub.add_parser("accuracy", help="test-split accuracy of a weights file")
    a.add_argument("--weights", default=str(WEIGHTS_PATH))
    a.set_defaults(func=_accuracy)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
