"""genzoo.metrics against known answers: each test fails if the metric code is wrong."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn
from torchvision.transforms.functional import gaussian_blur

import genzoo
from genzoo.metrics import (HIGHER_IS_BETTER, ClassCoverage, PointModeCoverage, PrecisionRecall, Scores, Sharpness,
                            TooFewSamplesError, default_metrics, evaluator, frechet_distance, score)
from genzoo.metrics import fid as fidlib
from genzoo.metrics.cache import stats_dir


@pytest.fixture(scope="module")
def reference(fashion_train):
    """1000 training images: the reference set of most tests (scored with n=1000)."""
    return fashion_train.subset(1000, seed=5)


@pytest.fixture(scope="module")
def real_1000(fashion_test):
    return fashion_test.subset(1000, seed=1).x


@pytest.fixture(scope="module")
def predicted(fashion_test):
    """The evaluator's label of every test image, (10000,)."""
    with torch.no_grad():
        return torch.cat([evaluator().logits(fashion_test.x[i:i + 2000]).argmax(1) for i in range(0, 10_000, 2000)])


def _score(x, ref, metrics, **kw):
    return score(x, ref, metrics, progress=False, **kw)


# ------------------------------------------------------------------------------------------ FID

def test_fid_small_for_real_data_and_large_for_noise(real_1000, reference):
    real = _score(real_1000, reference, ["fid"])["fid"]
    noise = _score(torch.rand(1000, 1, 28, 28), reference, ["fid"])["fid"]
    blank = _score(torch.zeros(1000, 1, 28, 28), reference, ["fid"])["fid"]
    assert 0 <= real < 1.5                      # 1000 vs 1000 real images: only the small-sample bias
    assert noise > 30 and blank > 30


def test_fid_matches_closed_form_with_scipy_sqrtm():
    g = torch.Generator().manual_seed(0)
    d = 6
    def gaussian(n):                                            # N(0, A^T A) with a random A
        return torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.randn(d, d, generator=g, dtype=torch.float64)

    a, b = gaussian(4000), gaussian(3000) + 0.7
    mu1, mu2 = a.numpy().mean(0), b.numpy().mean(0)
    s1, s2 = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))
    assert expected > 1
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_fid_from_cached_reference_equals_fid_through_the_module(real_1000, reference, tmp_path, monkeypatch):
    """score() loads the reference features from the cache; torchmetrics fed the images gives the same."""
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path))
    samples = real_1000[:600]
    ref = reference.subset(600, seed=0)

    class Features(nn.Module):
        num_features = 128

        def forward(self, x):
            return evaluator().features(x)

    direct = fidlib.make_fid(Features())
    direct.update(ref.x, real=True)
    direct.update(samples, real=False)
    first = _score(samples, ref, ["fid"])
    again = _score(samples, ref, ["fid"])
    assert len(list(stats_dir().glob("fashion-mnist-train-*-n600-*.safetensors"))) == 1
    assert not list(stats_dir().glob("*.tmp"))
    assert any("computed and cached" in n for n in first.notes)
    assert any("from cache" in n for n in again.notes)
    assert first["fid"] == again["fid"] == pytest.approx(float(direct.compute()), rel=1e-4)


def test_what_reaches_the_custom_modules_is_the_float_image():
    """torchmetrics' IS casts to uint8 when normalize=True, even for a custom net: we must not."""
    seen = []

    class Recorder(nn.Module):
        num_features = 4

        def forward(self, x):
            seen.append(x)
            return x.flatten(1)[:, :4].float()

    x = torch.rand(8, 1, 28, 28)
    fidlib.make_fid(Recorder()).update(x, real=False)
    fidlib.make_kid(Recorder(), 8, 8).update(x, real=False)
    fidlib.make_is(Recorder(), 8).update(x)
    assert len(seen) == 3
    for got in seen:
        assert got.dtype == torch.float32 and torch.equal(got, x)


def test_too_few_samples_for_fid_is_a_clear_error_that_suggests_kid(real_1000, reference, tmp_path, monkeypatch):
    monkeypatch.delenv("GENZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))            # no Inception weights: defaults skip them
    with pytest.raises(TooFewSamplesError, match="kid") as err:
        _score(real_1000[:100], reference, ["fid", "kid"])
    assert isinstance(err.value, ValueError) and "256" in str(err.value)
    # by default fid is left out with a note instead, and kid works on 100 samples
    s = _score(real_1000[:100], reference, None)
    assert "fid" not in s and "kid" in s and any(n.startswith("fid left out") for n in s.notes)


# ----------------------------------------------------------------------------------------- modes

def test_one_class_samples_cover_one_class_with_kl_ln10(fashion_test, predicted):
    trousers = fashion_test.x[(fashion_test.y == 1) & (predicted == 1)][:500]     # all labelled class 1
    s = _score(trousers, fashion_test, ["classes_covered", "mode_kl", "class_frac", "low_confidence"])
    assert s["classes_covered"] == 1
    assert s["mode_kl"] == pytest.approx(math.log(10), abs=1e-9)
    assert s["class_frac_1"] == 1.0 and sum(s[f"class_frac_{k}"] for k in range(10)) == pytest.approx(1)
    balanced = _score(fashion_test.subset(2000, seed=3).x, fashion_test, ["classes_covered", "mode_kl"])
    assert balanced["classes_covered"] == 10 and balanced["mode_kl"] < 0.02


def test_class_coverage_definitions_on_logits():
    m = ClassCoverage(num_classes=10)
    sure = torch.full((90, 10), -10.0)
    sure[torch.arange(90), torch.arange(90) % 3] = 10.0          # 30 each of classes 0, 1, 2, confident
    m.update(sure)
    unsure = torch.zeros(10, 10)                                 # uniform softmax: below 0.5
    m.update(unsure)
    out = m.compute()
    assert out["classes_covered"] == 3                           # class 0 also holds the 10 unsure ones
    assert out["low_confidence"] == pytest.approx(0.1)
    p = torch.tensor([0.4, 0.3, 0.3])
    assert out["mode_kl"] == pytest.approx(float((p * (10 * p).log()).sum()))
    m.reset()
    m.update(sure[:1])
    assert m.compute()["classes_covered"] == 1


def test_stacked_modes(fashion_test, predicted):
    stacked = genzoo.data.load("stacked-fashion-mnist", split="test", n=3000)
    s = _score(stacked.x, stacked, ["modes_covered", "mode_kl"])
    assert s["modes_covered"] >= 900          # 1000 (1 - e^-3) = 950 modes expected for 3000 draws
    assert s["mode_kl"] < 0.5
    # every sample the same triple of confidently classified images -> one mode
    pick = [int(((fashion_test.y == c) & (predicted == c)).nonzero()[0]) for c in (7, 1, 4)]
    one = fashion_test.x[pick, 0].unsqueeze(0).repeat(300, 1, 1, 1)        # (300, 3, 28, 28)
    collapsed = _score(one, stacked, ["modes_covered", "mode_kl"])
    assert collapsed["modes_covered"] == 1
    assert collapsed["mode_kl"] == pytest.approx(math.log(1000), abs=1e-9)


def test_ring_points_on_three_means():
    ring = genzoo.data.load("ring", split="test", n=100)
    means = ring.meta["means"]
    on = means[[0, 3, 5]].repeat(100, 1)                                    # (300, 2)
    s = _score(on, ring, ["modes_covered", "high_quality"])
    assert s == {"modes_covered": 3.0, "high_quality": 1.0}
    off = torch.cat([on, torch.zeros(100, 2)])                              # the centre is far from all
    s = _score(off, ring, ["high_quality", "modes_covered"])
    assert s["high_quality"] == pytest.approx(0.75) and s["modes_covered"] == 3
    edge = means[[2]] + torch.tensor([[3.5 * ring.meta["std"], 0.0]])       # 3.5 std away: not high quality
    assert _score(torch.cat([edge, edge]), ring, ["modes_covered"])["modes_covered"] == 0


def test_points_precision_recall_tell_collapse_from_coverage():
    ring = genzoo.data.load("ring", split="train", n=4000)
    ref = genzoo.data.load("ring", split="test", n=2000)
    s = _score(ring.x[:2000], ref, None)                                    # defaults: all four
    assert list(s) == ["modes_covered", "high_quality", "precision", "recall"]
    assert s["precision"] > 0.9 and s["recall"] > 0.9                       # fresh draws of the same data
    one_mode = ring.x[ring.y == 0][:200]                                    # real points, one of 8 modes
    c = _score(one_mode, ref, ["precision", "recall"])
    assert c["precision"] > 0.9                                             # every sample is realistic
    assert c["recall"] < 0.2                                                # ~1/8 of the data is covered
    assert c["recall"] == pytest.approx(float((ref.y == 0).float().mean()), abs=0.05)


def test_point_metric_against_grid_samples():
    grid = genzoo.data.load("grid", split="test", n=2500)
    m = PointModeCoverage(grid.meta["means"], grid.meta["std"])
    m.update(grid.x)
    out = m.compute()
    assert out["modes_covered"] == 25 and out["high_quality"] > 0.98       # 3 std in 2-D holds 98.9%


# ------------------------------------------------------------------------- sharpness, precision

def test_blur_lowers_sharpness_and_precision(real_1000, reference):
    blurred = gaussian_blur(real_1000, kernel_size=5, sigma=1.5)
    names = ["sharpness", "precision", "recall"]
    real, blur = _score(real_1000, reference, names), _score(blurred, reference, names)
    assert 0.8 < real["sharpness"] < 1.25
    assert blur["sharpness"] < 0.4 * real["sharpness"]
    assert real["precision"] > 0.6 and blur["precision"] < real["precision"] - 0.2


def test_one_class_has_high_precision_and_low_recall(fashion_test, reference):
    boots = fashion_test.x[fashion_test.y == 9][:1000]
    s = _score(boots, reference, ["precision", "recall", "density", "coverage"])
    assert s["precision"] > 0.8
    assert s["recall"] < 0.3 and s["coverage"] < 0.3


def test_precision_recall_metric_on_known_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(500, 8, generator=g)
    m = PrecisionRecall(k=3)
    m.update(real, real=True)
    m.update(real, real=False)                                  # a copy of the real set ...
    m.update(real + 100, real=False)                            # ... and as many far-away points
    assert m.compute() == {"precision": 0.5, "recall": 1.0}
    m.reset()
    m.update(real, real=True)
    m.update(real[:100], real=False)                            # a part of the real set
    out = m.compute()
    assert out["precision"] == 1.0 and out["recall"] < 1.0
    m.reset()
    m.update(real, real=True)
    m.update(real + 100, real=False)
    assert m.compute() == {"precision": 0.0, "recall": 0.0}


def test_sharpness_metric_of_flat_and_checkered_images():
    m = Sharpness()
    m.update(torch.full((4, 1, 28, 28), 0.5))
    assert float(m.compute()) == 0
    m.reset()
    checker = ((torch.arange(28)[:, None] + torch.arange(28)) % 2).float().expand(2, 1, 28, 28)
    m.update(checker)
    assert float(m.compute()) == pytest.approx(16.0)            # Laplacian is +-4 everywhere: variance 16


# --------------------------------------------------------------------------------- IS, Inception

def test_inception_score_of_real_images_matches_hand_computation(real_1000, fashion_test):
    few = real_1000[:80]                                      # under 100 samples: a single split
    s = _score(few, fashion_test, ["is"])
    with torch.no_grad():
        p = evaluator().logits(few).double().softmax(1)                        # (N, 10)
    kl = (p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean()
    by_hand = float(kl.exp())
    assert by_hand > 5
    assert s["is"] == pytest.approx(by_hand, rel=1e-4)
    assert "is_std" not in s and s.measured["is_splits"] == 1
    assert "is: one split of 80 (all samples); is_std left out" in s.notes
    assert fidlib.is_splits(1000) == 10 and fidlib.is_splits(499) == 9 and fidlib.is_splits(99) == 1


def _random_inception_weights(path):
    """The real torchmetrics InceptionV3 architecture with random (He-initialised) weights."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    class Unloaded(NoTrainInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None                                          # keep the fresh initialisation

    empty = path.with_name("empty.pth")
    torch.save({}, empty)
    net = Unloaded("inception-v3-compat", ["2048"], str(empty))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, nn.Conv2d):                       # keep activations O(1) through 40+ layers
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2 / mod.weight[0].numel()) ** 0.5)
    torch.save(net.state_dict(), path)
    return path


def test_inception_metrics_run_offline_on_a_local_weights_file(fashion_test, tmp_path, monkeypatch):
    monkeypatch.delenv("GENZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))   # an empty hub cache
    real = fashion_test.x[:16]
    absent = _score(real, fashion_test, ["kid", "kid_inception", "is_inception"])
    assert "kid" in absent and "kid_inception" not in absent and "is_inception" not in absent
    assert any("no InceptionV3 weights" in n for n in absent.notes)

    pytest.importorskip("torch_fidelity", reason="torchmetrics' InceptionV3 comes from torch-fidelity")
    weights = _random_inception_weights(tmp_path / "inception.pth")
    with pytest.raises(TooFewSamplesError):                      # 2 x 2048 samples needed, checked first
        _score(real, fashion_test, ["fid_inception"], inception_weights=weights)
    monkeypatch.setenv("GENZOO_INCEPTION_WEIGHTS", str(weights))
    s = _score(real, fashion_test, ["kid_inception", "is_inception"])
    assert set(s) == {"kid_inception", "is_inception"}          # 16 samples: one KID subset, one IS split
    assert all(math.isfinite(v) for v in s.values()) and s["is_inception"] >= 1
    assert any("antialias=True" in n for n in s.notes)


# ------------------------------------------------------------------------------ API and command

class _Replay:
    """A stand-in fitted model: ``sample`` replays real images, as the spec's Model API does."""

    def __init__(self, x):
        self.x, self.calls = x, []

    def sample(self, n, labels=None, *, seed=None):
        self.calls.append((n, seed))
        idx = torch.randperm(len(self.x), generator=torch.Generator().manual_seed(seed))[:n]
        return self.x[idx]


def test_score_samples_a_model_and_reports_directions(real_1000, reference):
    model = _Replay(real_1000)
    s = _score(model, reference, ["kid", "precision", "sharpness"], n=300, seed=7)
    assert model.calls == [(300, 7)]
    assert isinstance(s, Scores) and list(s) == ["kid", "precision", "sharpness"]
    assert all(isinstance(v, float) for v in s.values())
    assert s.higher_is_better == {"kid": False, "precision": True}
    assert abs(s["kid"]) < 0.05 and s.notes                    # noise: ~1.2


def test_default_metrics_and_bad_requests(reference):
    assert {"fid", "kid", "is", "precision", "recall", "classes_covered", "mode_kl", "sharpness",
            "fid_inception"} <= set(default_metrics("fashion-mnist"))
    assert {"modes_covered", "mode_kl"} <= set(default_metrics("stacked-fashion-mnist"))
    assert default_metrics("ring") == default_metrics("grid") == ["modes_covered", "high_quality", "precision", "recall"]
    assert HIGHER_IS_BETTER["fid"] is False and HIGHER_IS_BETTER["recall"] is True
    with pytest.raises(ValueError, match="does not apply"):
        _score(torch.rand(300, 1, 28, 28), reference, ["high_quality"])
    with pytest.raises(ValueError, match="shape"):
        _score(torch.rand(300, 3, 28, 28), reference, ["kid"])


def test_score_command_writes_json(real_1000, tmp_path, capsys):
    import argparse

    from genzoo.errors import UserError
    from genzoo.metrics import cli

    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    pt = tmp_path / "samples.pt"
    torch.save(real_1000[:200].clone(), pt)
    out = tmp_path / "scores.json"
    args = parser.parse_args(["score", str(pt), "--reference", "fashion-mnist", "--metrics", "kid,mode_kl",
                              "--json", str(out)])
    assert args.func(args) == 0
    assert "kid" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert set(doc["metrics"]) == {"kid", "mode_kl"} and doc["higher_is_better"]["kid"] is False
    for argv in (["score", str(tmp_path / "missing"), "--reference", "fashion-mnist"],
                 ["score", str(pt), "--reference", "cifar10"],
                 ["score", str(pt), "--reference", "fashion-mnist", "--metrics", "fid"]):
        args = parser.parse_args(argv)
        with pytest.raises(UserError):
            args.func(args)
