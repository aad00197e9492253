"""The evaluators by name: the names datasets declare in ``DatasetInfo.evaluator``, each with the
dataset it is trained and tested on and its training recipe.

- ``"fashion-mnist"``: the CNN shipped with genzoo (``genzoo/metrics/weights/fashion_cnn.safetensors``).
- ``"mnist"``, ``"cifar10"``: the same kind of classifier, trained on the dataset's train split
  the first time scoring needs it (or by ``python -m genzoo.metrics.evaluator train DATASET``)
  and kept in genzoo's cache.
- ``"celeba64"``: an attribute classifier (one sigmoid output per attribute, CelebA's 40),
  trained the same way on the train split's ``meta["attributes"]``.

What an evaluator takes (channels, size) and gives (classes or attributes) is read from its
dataset's declaration, never written twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "fashion_cnn.safetensors"
# sha256 of the shipped weights file (printed by `python -m genzoo.metrics.evaluator train fashion-mnist`)
WEIGHTS_SHA256 = "51097a467cc9d6dd9eb08bfeb3364e7ab6116efe0dc23f9c52fc579fb91ebe37"
TARGETS = ("classes", "attributes")


@dataclass(frozen=True)
class EvaluatorSpec:
    """An evaluator: ``name`` (what datasets declare), ``dataset`` (the registered dataset whose
    "train" split trains it and whose "test" split measures it), ``target`` (``"classes"``: the
    labels ``y``, softmax over the dataset's classes; ``"attributes"``: ``meta["attributes"]``,
    one sigmoid per attribute) and its training recipe (the defaults of the ``train`` command):
    ``epochs``, ``width``, peak ``lr``, augmentation (random ``shift`` of up to that many pixels,
    ``hflip``), and ``pixel_stats`` (fixed (mean, std) of the inputs; None: the train split's, per
    channel). ``shipped``/``shipped_sha256``: a weights file shipped with genzoo instead of a cached
    one. ``stem`` names its weights in cache keys and records (``<stem>-<sha256[:12]>``)."""

    name: str
    dataset: str
    stem: str
    target: str = "classes"
    epochs: int = 10
    width: int = 20
    lr: float = 0.05
    shift: int = 2
    hflip: bool = True
    pixel_stats: tuple[float, float] | None = None
    shipped: Path | None = None
    shipped_sha256: str = ""
    description: str = ""

    def __post_init__(self):
        if self.target not in TARGETS:
            raise ValueError(f"evaluator {self.name!r}: target must be one of {TARGETS}, got {self.target!r}")

    @property
    def has_classes(self) -> bool:
        """Whether its outputs are the logits of one class per image (softmax), which the Inception
        Score and the class / mode counts need; an attribute classifier's are not."""
        return self.target == "classes"

    def data_info(self):
        """The declaration of the dataset it is trained on (:func:`genzoo.data.dataset_info`)."""
        from genzoo.data import dataset_info

        return dataset_info(self.dataset)

    def input_shape(self) -> tuple[int, int, int]:
        """(channels, size, size) of the images it classifies: its dataset's item shape."""
        return tuple(self.data_info().shape)

    def num_outputs(self) -> int:
        """Its dataset's number of classes, or of attributes for an attribute classifier."""
        info = self.data_info()
        return info.num_classes if self.has_classes else len(info.attributes)


EVALUATORS: dict[str, EvaluatorSpec] = {spec.name: spec for spec in (
    EvaluatorSpec("fashion-mnist", "fashion-mnist", "fashion_cnn", pixel_stats=(0.2860, 0.3530),
                  shipped=WEIGHTS_PATH, shipped_sha256=WEIGHTS_SHA256,
                  description="the CNN shipped with genzoo (92.4% test accuracy)"),
    EvaluatorSpec("mnist", "mnist", "mnist_cnn", hflip=False,          # digits are not mirror-symmetric
                  description="the same CNN trained on MNIST's train split on first use"),
    EvaluatorSpec("cifar10", "cifar10", "cifar10_cnn", epochs=15, width=32, shift=4,
                  description="the same CNN on CIFAR-10 (3x32x32), trained on first use"),
    EvaluatorSpec("celeba64", "celeba64", "celeba64_cnn", target="attributes", epochs=2, shift=4,
                  description="an attribute classifier of CelebA 64x64 (40 sigmoid outputs), trained on first use"),
)}


def evaluator_spec(name: str) -> EvaluatorSpec:
    """The evaluator registered as ``name``; ValueError naming the registered ones otherwise."""
    try:
        return EVALUATORS[name]
    except KeyError:
        raise ValueError(f"unknown evaluator {name!r}; choose one of {sorted(EVALUATORS)}") from None


def spec_for(name: str) -> EvaluatorSpec:
    """The evaluator ``name`` names: an evaluator's name, or a dataset whose declaration names one
    (``stacked-mnist`` -> ``mnist``). ValueError naming both kinds otherwise."""
    if name in EVALUATORS:
        return EVALUATORS[name]
    from genzoo.data import find_info

    info = find_info(name)
    if info is not None and info.evaluator in EVALUATORS:
        return EVALUATORS[info.evaluator]
    why = "it declares no evaluator" if info is not None else "no dataset or evaluator has this name"
    raise ValueError(f"no evaluator for {name!r} ({why}); choose one of {sorted(EVALUATORS)}")
