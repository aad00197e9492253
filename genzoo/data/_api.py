"""The dataset registry, after torchvision's model registry: each dataset module declares once what
the rest of genzoo needs to know about its data (:class:`DatasetInfo`), and scoring, reports,
claims, figures, sweeps and the demo read those declarations instead of testing a dataset's name.

    @register_dataset(DatasetInfo(name="mnist", kind="image", shape=(1, 28, 28), ...))
    def load_mnist(split="train", data_dir=None, download=True) -> Dataset: ...

``genzoo.data.list_datasets()`` lists the registered names with their item shapes;
``genzoo.data.dataset_info(name)`` returns a declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

KINDS = ("image", "points")
# how a dataset's modes are counted (genzoo.metrics.modes): by the evaluator's class of each image
# ("classes"), of each channel of a stacked image ("stacked"), or by the nearest mixture mean ("points")
MODE_COUNTS = ("", "classes", "stacked", "points")
# the metrics genzoo.metrics.score computes by default for an image set whose evaluator classifies
# its images into classes (Fashion-MNIST, MNIST, CIFAR-10)
IMAGE_METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_covered", "mode_kl",
                 "low_confidence", "class_frac", "sharpness", "fid_inception", "kid_inception", "is_inception")


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset declares about itself.

    - ``name``: the registry name (``genzoo.data.load(name)``); ``loader(split=..., **options)``
      returns a :class:`~genzoo.data.Dataset` whose ``name`` is this name.
    - ``kind``: ``"image"`` or ``"points"``; ``shape``: one item's shape with the default options
      (``(C, H, W)`` or ``(D,)``), None when the options choose it (a folder of your own images).
    - ``num_classes`` and ``class_names``: the labels (None / () when the data says: the
      subfolders of an image folder). ``attributes``: names of binary attributes the items carry
      besides their label (CelebA's 40), in ``meta["attributes"]``.
    - ``modes``: how many modes the mode metrics count (1,000 for Stacked MNIST, 8 for the ring;
      None: none), and ``mode_count`` how (:data:`MODE_COUNTS`).
    - ``evaluator``: the name of the network that scores its images
      (``genzoo.metrics.evaluator``; per channel when ``mode_count == "stacked"``), "" for points.
    - ``metrics``: the metrics ``genzoo.metrics.score`` computes by default; ``n_samples``: how
      many samples it draws from a model by default (the protocol the literature uses).
    - ``splits``: the splits ``load`` takes; ``options``: the loader's keyword options.
    - ``claims`` and ``literature``: which claim sets the report tests on it and which published
      tables it is compared with (names the report package defines), () / "" for none.
    - ``description``: one line for listings; ``title``: the dataset's name in prose
      ("Fashion-MNIST"), what reports and claims call it (:attr:`display_name`: the name without one).
    """

    name: str
    kind: str
    shape: tuple[int, ...] | None
    num_classes: int | None
    class_names: tuple[str, ...] = ()
    description: str = ""
    title: str = ""
    attributes: tuple[str, ...] = ()
    modes: int | None = None
    mode_count: str = ""
    evaluator: str = ""
    metrics: tuple[str, ...] = ()
    n_samples: int = 10_000
    splits: tuple[str, ...] = ("train", "test")
    options: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    literature: str = ""
    loader: Callable | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"dataset {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.mode_count not in MODE_COUNTS:
            raise ValueError(f"dataset {self.name!r}: mode_count must be one of {MODE_COUNTS}, got {self.mode_count!r}")
        if self.class_names and self.num_classes is not None and len(self.class_names) != self.num_classes:
            raise ValueError(f"dataset {self.name!r}: {len(self.class_names)} class names for "
                             f"{self.num_classes} classes")

    @property
    def display_name(self) -> str:
        """The dataset's name in prose: its ``title``, else its registry name."""
        return self.title or self.name

    @property
    def channels(self) -> int | None:
        """Channels of an image item (None for points, or when the options choose the shape)."""
        return self.shape[0] if self.kind == "image" and self.shape else None

    def shape_text(self) -> str:
        if self.shape is None:
            return "(C, size, size): set by its options"
        return "(" + ", ".join(map(str, self.shape)) + ")"


_DATASETS: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo) -> Callable:
    """Decorator: register the decorated loader under ``info.name`` with ``info`` as its declaration."""

    def wrapper(loader: Callable) -> Callable:
        if info.name in _DATASETS:
            raise ValueError(f"a dataset is already registered under the name {info.name!r}")
        _DATASETS[info.name] = replace(info, loader=loader)
        return loader

    return wrapper


def list_datasets() -> dict[str, tuple[int, ...] | None]:
    """The registered datasets, sorted by name, each with its item shape (None where the options
    choose it): ``{"cifar10": (3, 32, 32), "fashion-mnist": (1, 28, 28), ...}``. Iterating it
    gives the names."""
    return {name: _DATASETS[name].shape for name in sorted(_DATASETS)}


def dataset_info(name: str) -> DatasetInfo:
    """The declaration of a registered dataset; ValueError naming the registered ones otherwise."""
    try:
        return _DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(_DATASETS)}") from None


def find_info(name: str) -> DatasetInfo | None:
    """The declaration of ``name``, or None when no dataset is registered under it (a Dataset a
    user built in memory)."""
    return _DATASETS.get(name)
