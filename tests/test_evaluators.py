"""An evaluator per dataset (genzoo.metrics.evaluator): the classifiers of MNIST, CIFAR-10 and CelebA
64x64 trained on small generated files in the owners' formats (tests/formats.py), kept in genzoo's
cache under the digest of their training data, reused, retrained for other data; and scoring that
reads the dataset declarations: stacked MNIST per channel, evaluator-less data, uint8 images."""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import pytest
import torch
from formats import write_celeba, write_cifar10, write_idx_dataset, write_image_folder

import genzoo
from genzoo.data import Dataset, DataNotFoundError, as_float
from genzoo.metrics import score
from genzoo.metrics.cache import stats_dir
from genzoo.metrics.evaluator import EVALUATORS, EvaluatorCNN, file_sha256, get_evaluator
from genzoo.metrics.evaluator.__main__ import main as evaluator_main
from genzoo.metrics.evaluator.network import halvings
from genzoo.metrics.evaluator.provide import forget
from genzoo.metrics.evaluator.store import data_digest, read_metadata
from genzoo.metrics.evaluator.train import accuracy, config_for

# tiny training budgets, through the trainer's own settings: a few epochs of a width-8 network
TINY = {"epochs": 2, "width": 8, "batch_size": 32}


def _tiny(name: str, **more):
    return config_for(EVALUATORS[name], **{**TINY, **more})


def _score(x, ref, metrics=None, **kw):
    return score(x, ref, metrics, progress=False, **kw)


@pytest.fixture(autouse=True, scope="module")
def cache(tmp_path_factory):
    """A cache of this module's own: what it trains is not what other test files find, and back."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("evaluator-cache")
    mp.setenv("GENZOO_CACHE", str(root))
    forget()
    yield root
    mp.undo()
    forget()


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    return write_idx_dataset(tmp_path_factory.mktemp("mnist"), 1000, 300, seed=0)


@pytest.fixture(scope="module")
def mnist_ev(cache, mnist_dir):
    return get_evaluator("mnist", data_dir=mnist_dir, cfg=_tiny("mnist"), progress=False)


@pytest.fixture
def quiet_inception(tmp_path, monkeypatch):
    """No InceptionV3 weights anywhere: the *_inception metrics are left out."""
    monkeypatch.delenv("GENZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


# ------------------------------------------------------------------------------------ the network

@pytest.mark.parametrize("shape, pools", [((1, 28, 28), 2), ((3, 32, 32), 2), ((3, 64, 64), 3), ((1, 14, 14), 1),
                                          ((3, 16, 16), 1)])
def test_the_network_is_built_from_the_image_size(shape, pools):
    c, size = shape[0], shape[1]
    assert halvings(size) == pools
    net = EvaluatorCNN(8, 16, 5, in_channels=c, size=size, pixel_mean=(0.5,) * c, pixel_std=(0.25,) * c).eval()
    x = torch.rand(4, c, size, size)
    f, lg = net.features_and_logits(x)
    assert f.shape == (4, 16) and lg.shape == (4, 5)
    stacked = torch.rand(4, 2 * c, size, size)                       # two images stacked as channels
    f2, lg2 = net.features_and_logits(stacked)
    assert f2.shape == (4, 32) and lg2.shape == (4, 2, 5)
    torch.testing.assert_close(f2[:, 16:], net.features(stacked[:, c:]))
    with pytest.raises(ValueError, match=f"C a multiple of {c}"):
        net.features(torch.rand(2, c + 1, size, size) if c > 1 else torch.rand(2, 1, size + 4, size + 4))


# ------------------------------------------------------------------------ MNIST: train, cache, reuse

def test_mnist_evaluator_learns_the_generated_digits_and_is_kept_in_the_cache(mnist_ev, mnist_dir, cache):
    assert mnist_ev.trained and mnist_ev.test_accuracy >= 0.95
    assert mnist_ev.path.parent == cache / "evaluators" and mnist_ev.path.name.startswith("mnist-")
    assert file_sha256(mnist_ev.path) == mnist_ev.sha256 and mnist_ev.id == f"mnist_cnn-{mnist_ev.sha256[:12]}"
    train = genzoo.data.load("mnist", "train", data_dir=mnist_dir)
    test = genzoo.data.load("mnist", "test", data_dir=mnist_dir)
    meta = read_metadata(mnist_ev.path)
    assert meta["data_sha256"] == data_digest(train.x, train.y)          # the key is the training data
    assert mnist_ev.path.name == f"mnist-{meta['data_sha256'][:16]}.safetensors"
    assert (meta["epochs"], meta["width"], meta["test_accuracy"]) == (2, 8, mnist_ev.test_accuracy)
    assert round(accuracy(mnist_ev.network, test.x, test.y), 4) == mnist_ev.test_accuracy


def test_training_is_deterministic_from_a_clean_cache(mnist_ev, mnist_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path))
    assert evaluator_main(["train", "mnist", "--data-dir", str(mnist_dir), "--epochs", "2", "--width", "8",
                           "--batch-size", "32"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("mnist evaluator: test accuracy ")      # a one-line summary
    assert f"sha256 {mnist_ev.sha256}" in out[0]
    again = tmp_path / "evaluators" / mnist_ev.path.name
    assert f"kept in {again}" in out[0] and file_sha256(again) == mnist_ev.sha256


def test_a_cached_evaluator_is_reused_and_a_damaged_one_retrained(mnist_ev, mnist_dir, caplog):
    forget()                                     # as a new process: read the data and the cache again
    before = mnist_ev.path.stat().st_mtime_ns
    with caplog.at_level(logging.WARNING, logger="genzoo.metrics"):
        again = get_evaluator("mnist", data_dir=mnist_dir, progress=False)   # the default recipe differs
    assert not again.trained and again.sha256 == mnist_ev.sha256 and not caplog.records
    assert mnist_ev.path.stat().st_mtime_ns == before
    data = bytearray(mnist_ev.path.read_bytes())
    data[-1] ^= 1                                # flip a bit of the last weight
    mnist_ev.path.write_bytes(bytes(data))
    forget()
    with caplog.at_level(logging.WARNING, logger="genzoo.metrics"):
        fixed = get_evaluator("mnist", data_dir=mnist_dir, cfg=_tiny("mnist"), progress=False)
    assert fixed.trained and "its weights do not match their hash" in caplog.text
    assert fixed.sha256 == mnist_ev.sha256                           # the same file, trained again


def test_other_data_gets_an_evaluator_of_its_own(mnist_ev, tmp_path, caplog):
    other = write_idx_dataset(tmp_path / "other", 1000, 300, seed=1)
    with caplog.at_level(logging.WARNING, logger="genzoo.metrics"):
        ev = get_evaluator("mnist", data_dir=other, cfg=_tiny("mnist"), progress=False)
    assert ev.trained and ev.path != mnist_ev.path and ev.sha256 != mnist_ev.sha256
    assert len(caplog.records) == 1 and str(ev.path) in caplog.text and "training it now" in caplog.text
    assert mnist_ev.path.is_file()


def test_a_cache_that_cannot_be_written_keeps_the_evaluator_for_the_process(mnist_ev, mnist_dir, tmp_path,
                                                                             monkeypatch, caplog):
    (tmp_path / "blocker").write_text("not a folder\n")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "blocker" / "cache"))
    with caplog.at_level(logging.WARNING, logger="genzoo.metrics"):
        ev = get_evaluator("mnist", data_dir=mnist_dir, cfg=_tiny("mnist"), progress=False)
    assert ev.trained and not ev.path.exists() and "could not keep the mnist evaluator" in caplog.text
    assert ev.sha256 == mnist_ev.sha256                        # the very bytes the cache would have held
    again = get_evaluator("mnist", data_dir=mnist_dir, progress=False)    # remembered (the default recipe differs)
    assert not again.trained and again.sha256 == ev.sha256


def test_scoring_trains_an_evaluator_on_first_use_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "cache"))
    small = write_idx_dataset(tmp_path / "data", 256, 100, seed=2)
    ref = genzoo.data.load("mnist", "test", data_dir=small)
    with caplog.at_level(logging.WARNING, logger="genzoo.metrics"):
        first = _score(ref.x, ref, ["kid"])                 # the evaluator's data: the reference's folder
    assert [r.getMessage().count("\n") for r in caplog.records] == [0]            # one line
    kept = list((tmp_path / "cache" / "evaluators").glob("mnist-*.safetensors"))
    assert len(kept) == 1 and str(kept[0]) in caplog.text
    assert any(n.startswith("evaluator mnist: trained on first use") and str(kept[0]) in n for n in first.notes)
    assert first.measured["evaluator_sha256"] == file_sha256(kept[0])
    second = _score(ref.x, ref, ["kid"])
    assert not any("trained on first use" in n for n in second.notes) and second["kid"] == first["kid"]


def test_without_its_data_the_evaluator_metrics_are_left_out_or_refused(mnist_ev, mnist_dir, tmp_path):
    stacked = genzoo.data.load("stacked-mnist", "test", data_dir=mnist_dir, n=300)
    empty = tmp_path / "empty"
    empty.mkdir()
    s = _score(stacked.x, stacked, data_dir=empty)
    assert list(s) == ["sharpness"] and s["sharpness"] == pytest.approx(1.0)
    assert any(n.startswith("modes_covered, mode_kl, fid, kid left out: no mnist evaluator (data_dir=")
               for n in s.notes)
    with pytest.raises(DataNotFoundError, match="no MNIST train files"):
        _score(stacked.x, stacked, ["kid"], data_dir=empty)


# ------------------------------------------------------------------------ stacked MNIST, per channel

def test_stacked_mnist_is_scored_per_channel_with_the_mnist_evaluator(mnist_ev, mnist_dir):
    stacked = genzoo.data.load("stacked-mnist", "test", data_dir=mnist_dir, n=2000)
    s = _score(stacked.x, stacked, ["modes_covered", "mode_kl"])
    assert s.measured["evaluator"] == mnist_ev.id and s.measured["evaluator_sha256"] == mnist_ev.sha256
    assert s.measured["evaluator_test_accuracy"] == mnist_ev.test_accuracy
    assert s.measured["evaluator_per_channel"] is True
    assert f"evaluator: {mnist_ev.id} (384-d penultimate features, per channel)" in s.notes
    assert s["modes_covered"] >= 800               # 1000 (1 - e^-2) = 865 modes expected for 2000 draws
    one = stacked.x[:1].repeat(300, 1, 1, 1)                                # every sample the same item
    collapsed = _score(one, stacked, ["modes_covered", "mode_kl"])
    assert collapsed == {"modes_covered": 1.0, "mode_kl": pytest.approx(math.log(1000), abs=1e-9)}
    defaults = _score(stacked.x[:300], stacked)                 # the declaration's metrics, fid left out
    assert list(defaults) == ["modes_covered", "mode_kl", "kid", "sharpness"]
    with pytest.raises(ValueError, match="does not apply"):
        _score(stacked.x[:300], stacked, ["classes_covered"])    # a class histogram needs one digit an item


# ------------------------------------------------------------------------------------- CIFAR-10

def test_cifar10_evaluator_learns_the_generated_classes_and_scores_them(tmp_path):
    data = write_cifar10(tmp_path, 100, 200, seed=0)
    ev = get_evaluator("cifar10", data_dir=data, cfg=_tiny("cifar10", epochs=3), progress=False)
    assert ev.trained and ev.test_accuracy >= 0.9
    assert (ev.network.in_channels, ev.network.size, ev.network.num_classes) == (3, 32, 10)
    ref = genzoo.data.load("cifar10", "test", data_dir=data)
    s = _score(ref.x, ref, ["classes_covered", "mode_kl", "is", "kid"])
    assert s["classes_covered"] == 10 and s["mode_kl"] < 0.01 and s["is"] > 5
    assert s.measured["evaluator"] == ev.id and "evaluator_per_channel" not in s.measured


# ---------------------------------------------------------------------------------- CelebA 64x64

def test_celeba64_attribute_classifier_trains_and_scores_64x64_rgb(tmp_path, quiet_inception):
    data = write_celeba(tmp_path, 400, seed=0)
    ev = get_evaluator("celeba64", data_dir=data, cfg=_tiny("celeba64", epochs=4), progress=False)
    net = ev.network
    assert ev.trained and net.multilabel and (net.in_channels, net.size, net.num_classes) == (3, 64, 40)
    test = genzoo.data.load("celeba64", "test", data_dir=data)
    names = genzoo.data.dataset_info("celeba64").attributes
    drawn = [names.index(a) for a in ("Pale_Skin", "Wearing_Hat", "Eyeglasses", "Male")]   # what the faces show
    with torch.no_grad():
        right = (net.logits(as_float(test.x)) > 0).long() == test.meta["attributes"].long()   # (N, 40)
    assert float(right[:, drawn].float().mean()) >= 0.85
    s = _score(test.x, test)
    assert list(s) == ["kid", "precision", "recall", "density", "coverage", "sharpness"]       # fid: too few
    assert s.measured["evaluator"] == ev.id and s.measured["evaluator_test_accuracy"] == ev.test_accuracy
    assert any(n.startswith("is left out: the celeba64 evaluator is an attribute classifier") for n in s.notes)
    with pytest.raises(ValueError, match="does not apply .*attribute classifier"):
        _score(test.x, test, ["is"])


# ------------------------------------------------------------------- data without an evaluator

def test_an_image_folder_gets_sharpness_and_a_note_on_what_was_left_out(tmp_path, quiet_inception):
    write_image_folder(tmp_path / "imgs", ["cats", "dogs"], 12, sizes=(40, (50, 30)), formats=("png", "jpeg"))
    ref = genzoo.data.load("image-folder", "train", folder=tmp_path / "imgs", size=32)
    s = _score(ref.x, ref)
    assert list(s) == ["sharpness"] and s["sharpness"] == pytest.approx(1.0)
    assert "evaluator" not in s.measured
    assert any(n.startswith("fid, kid, is, precision, recall, density, coverage left out: image-folder has no "
                            "evaluator (its declaration names none)") for n in s.notes)
    assert any(n.startswith("fid_inception, kid_inception, is_inception left out: no InceptionV3") for n in s.notes)
    with pytest.raises(ValueError, match="does not apply .*no evaluator"):
        _score(ref.x, ref, ["fid"])


def test_a_dataset_built_in_memory_can_name_its_evaluator(mnist_ev, mnist_dir, quiet_inception):
    test = genzoo.data.load("mnist", "test", data_dir=mnist_dir)
    mine = Dataset("my-digits", test.x, test.y, 10, test.class_names)
    plain = _score(mine.x, mine)
    assert list(plain) == ["sharpness"]
    assert any("my-digits has no evaluator (a Dataset built in memory declares none)" in n for n in plain.notes)
    named = _score(mine.x, mine, evaluator="mnist", data_dir=mnist_dir)
    assert named.measured["evaluator"] == mnist_ev.id
    assert named["classes_covered"] == 10 and "kid" in named and "is" in named
    small = Dataset("my-icons", torch.rand(8, 1, 32, 32), torch.zeros(8, dtype=torch.long), 1, ("icon",))
    with pytest.raises(ValueError, match="the mnist evaluator takes 1x28x28 images"):
        _score(small.x, small, ["kid"], evaluator="mnist")
    with pytest.raises(ValueError, match="unknown evaluator"):
        _score(small.x, small, evaluator="imagenet")


# --------------------------------------------------------------------------------------- uint8

def test_uint8_and_float_images_give_the_same_scores(mnist_ev, mnist_dir):
    ref_u8 = genzoo.data.load("mnist", "test", data_dir=mnist_dir).subset(300, seed=0)
    assert ref_u8.x.dtype == torch.uint8
    ref_f = replace(ref_u8, x=as_float(ref_u8.x))
    samples = genzoo.data.load("mnist", "train", data_dir=mnist_dir).x[:300]
    names = ["kid", "is", "precision", "recall", "density", "coverage", "classes_covered", "mode_kl", "sharpness"]
    a = _score(samples, ref_u8, names)
    assert any(n.endswith(": computed and cached") for n in a.notes)
    b = _score(as_float(samples), ref_f, names)
    c = _score(as_float(samples), ref_u8, names)
    assert dict(a) == dict(b) == dict(c) and len(a) == 10          # kid_std: one KID subset of 300
    again = _score(samples, ref_u8, names)                          # the same uint8 set: from the cache
    assert any("from cache (hashes verified)" in n for n in again.notes) and dict(again) == dict(a)
    assert len(list(stats_dir().glob("mnist-test-*-n300-*.safetensors"))) == 2    # the uint8 and the float set
