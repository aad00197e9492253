"""What the metrics measure, exactly: float64 2-D arithmetic, PacGAN's strict 3-std rule, 10 IS
splits, ``Scores.measured``, a tamper-evident reference cache, and a cache that cannot be written."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import genzoo
from genzoo.metrics import PointModeCoverage, evaluator, score
from genzoo.metrics.cache import content_digest, stats_dir, stats_path
from genzoo.metrics.evaluator import WEIGHTS_PATH, evaluator_id, file_sha256
from genzoo.metrics.prdc import knn_radii, precision_recall

MEASURED_KEYS = ["samples", "reference_items", "reference_split", "reference_dataset", "evaluator",
                 "evaluator_sha256", "evaluator_test_accuracy", "is_splits", "metric_version"]


def _score(x, ref, metrics, **kw):
    return score(x, ref, metrics, progress=False, **kw)


@pytest.fixture(scope="module")
def small_ref(fashion_test):
    return fashion_test.subset(300, seed=0)


@pytest.fixture(scope="module")
def small_samples(fashion_test):
    return fashion_test.subset(300, seed=1).x


# ------------------------------------------------------------------------- 2-D mixtures, float64

def test_high_quality_counts_strictly_under_three_std_in_float64():
    ring = genzoo.data.load("ring", split="test", n=100)
    std, means = ring.meta["std"], ring.meta["means"].double()
    assert means[0].tolist() == [1.0, 0.0]
    r = 3.0 * std                                                # the metric's radius, in float64
    m = PointModeCoverage(ring.meta["means"], std)
    m.update(torch.tensor([[1.0, r]], dtype=torch.float64))     # exactly 3 std from mode 0
    assert m.compute() == {"modes_covered": 0.0, "high_quality": 0.0}
    m.reset()
    m.update(torch.tensor([[1.0, math.nextafter(r, 0.0)]], dtype=torch.float64))   # one ulp inside
    assert m.compute() == {"modes_covered": 1.0, "high_quality": 1.0}


def test_a_ring_sample_just_past_three_std_is_not_high_quality():
    ring = genzoo.data.load("ring", split="test", n=100)
    std, means = ring.meta["std"], ring.meta["means"].double()
    angle = torch.linspace(0, 2 * math.pi, 400, dtype=torch.float64)
    centre = means[torch.arange(400) % 8]                       # 50 samples around each mode
    step = std * torch.stack([angle.cos(), angle.sin()], dim=1)   # 1 std, in every direction
    out, inside = centre + 3.00016 * step, centre + 2.99984 * step
    assert _score(out, ring, ["high_quality", "modes_covered"]) == {"high_quality": 0.0, "modes_covered": 0.0}
    assert _score(inside, ring, ["high_quality", "modes_covered"]) == {"high_quality": 1.0, "modes_covered": 8.0}


def test_knn_radii_of_a_collapsed_set_are_float64_not_zero():
    g = torch.Generator().manual_seed(0)
    collapsed = (torch.tensor([[1.0, 0.0]]) + 1e-4 * torch.randn(2500, 2, generator=g)).float()   # a GAN on one mode
    radii = knn_radii(collapsed, 3)
    x = collapsed.double().numpy()
    exact = np.sort(np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)), axis=1)[:, 3]
    assert radii.dtype == torch.float64 and bool((radii > 0).all())
    np.testing.assert_allclose(radii.numpy(), exact, rtol=1e-12)
    same = torch.zeros(10, 2)                                   # identical points: a radius of exactly 0
    assert knn_radii(same, 3).tolist() == [0.0] * 10
    # closed balls (distance <= radius, Kynkaanniemi et al.): a copy of such a point is inside; prdc says 0.0
    assert precision_recall(torch.cat([same, torch.randn(50, 2, generator=g) + 5]), torch.zeros(5, 2))[0] == 1.0


def _brute_precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Kynkaanniemi et al.'s definition in numpy float64 with exact differences, closed balls."""
    r, f = real.double().numpy(), fake.double().numpy()

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    r_radii, f_radii = np.sort(dist(r, r), 1)[:, k], np.sort(dist(f, f), 1)[:, k]
    rf = dist(r, f)
    return float((rf <= r_radii[:, None]).any(0).mean()), float((rf <= f_radii[None, :]).any(1).mean())


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_points_precision_recall_equal_the_float64_definition(name):
    ref = genzoo.data.load(name, split="test", n=2500)
    fake = genzoo.data.load(name, split="train", n=2500, seed=0).x
    s = _score(fake, ref, ["precision", "recall"])
    assert (s["precision"], s["recall"]) == _brute_precision_recall(ref.x, fake)   # exact counts / 2500


# ------------------------------------------------------------------------------------ IS, measured

@pytest.fixture(scope="module")
def quick(fashion_train, fashion_test):
    """The quick fashion profile's scoring: 2,000 samples against the 10,000-image test split."""
    x = fashion_train.subset(2000, seed=4).x
    return x, _score(x, fashion_test, ["kid", "is"])


def test_is_uses_ten_splits_with_std_ddof_1(quick):
    x, s = quick
    with torch.no_grad():
        logits = evaluator().logits(x).double()
    torch.manual_seed(0)                                        # score(seed=0): torchmetrics' shuffle
    splits = logits[torch.randperm(len(x))].chunk(10)
    per_split = []
    for lg in splits:
        p = lg.softmax(1)
        per_split.append(float((p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean().exp()))
    assert [len(c) for c in splits] == [200] * 10
    assert s["is"] == pytest.approx(np.mean(per_split), rel=1e-4)
    assert s["is_std"] == pytest.approx(np.std(per_split, ddof=1), rel=1e-3)
    assert "is: mean and std (ddof=1) over 10 splits of 200" in s.notes


def test_scores_say_what_was_measured(quick):
    _, s = quick
    assert list(s.measured) == MEASURED_KEYS
    assert s.measured == {"samples": 2000, "reference_items": 2000, "reference_split": "test",
                          "reference_dataset": "fashion-mnist", "evaluator": evaluator_id(),
                          "evaluator_sha256": file_sha256(WEIGHTS_PATH), "evaluator_test_accuracy": 0.9243,
                          "is_splits": 10, "metric_version": 2}
    assert s.to_json()["measured"] == s.measured


def test_measured_on_points_and_without_reference_use():
    ref = genzoo.data.load("ring", split="test", n=5000)
    x = genzoo.data.load("ring", split="train", n=300).x
    s = _score(x, ref, None)
    assert s.measured == {"samples": 300, "reference_items": 300, "reference_split": "test",
                          "reference_dataset": "ring", "evaluator": "raw coordinates", "metric_version": 2}
    assert _score(x, ref, ["modes_covered"]).measured["reference_items"] == 0    # the means, not the data


# ---------------------------------------------------------------------------- reference cache

def _cache_file(ref) -> Path:
    path = stats_path(ref.name, ref.split, evaluator_id(), len(ref), content_digest(ref.x))
    assert path.parent == stats_dir() and path.is_file()
    return path


def _read(path):
    with safe_open(str(path), "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def test_a_changed_cache_file_is_detected_and_recomputed(small_ref, small_samples, tmp_path, monkeypatch):
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path))
    first = _score(small_samples, small_ref, ["fid"])
    path = _cache_file(small_ref)
    tensors, meta = _read(path)
    assert meta["reference_sha256"] == content_digest(small_ref.x)
    assert meta["network"] == evaluator_id()
    save_file({**tensors, "features": tensors["features"] * 3}, str(path), metadata=meta)   # hash kept
    again = _score(small_samples, small_ref, ["fid"])
    assert again["fid"] == pytest.approx(first["fid"], rel=1e-6)
    assert any(f"in {path} did not match their hash: recomputed and cached" in n for n in again.notes)
    assert torch.equal(_read(path)[0]["features"], tensors["features"])             # overwritten
    third = _score(small_samples, small_ref, ["fid"])
    assert any("from cache (hashes verified)" in n for n in third.notes) and third["fid"] == again["fid"]


def test_an_unhashed_or_foreign_cache_file_is_recomputed(small_ref, small_samples, fashion_test, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path))
    first = _score(small_samples, small_ref, ["kid"])
    path = _cache_file(small_ref)
    tensors, meta = _read(path)
    save_file(tensors, str(path))                               # an older genzoo's file: no metadata
    old = _score(small_samples, small_ref, ["kid"])
    assert old["kid"] == pytest.approx(first["kid"], rel=1e-6, abs=1e-9)
    assert any("carry no hash" in n and "recomputed" in n for n in old.notes)
    other = fashion_test.subset(300, seed=2)
    _score(small_samples, other, ["kid"])
    other_path = _cache_file(other)
    save_file(tensors, str(other_path), metadata=meta)          # a valid file of other reference images
    foreign = _score(small_samples, other, ["kid"])
    assert any("other reference images" in n and "recomputed" in n for n in foreign.notes)
    assert _read(other_path)[1]["reference_sha256"] == content_digest(other.x)


@pytest.mark.parametrize("layout", ["cache is a file", "cache under a file", "stats is a file"])
def test_a_cache_that_cannot_be_written_leaves_a_note_not_a_traceback(layout, small_ref, small_samples, tmp_path,
                                                                      monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder\n")
    cache = {"cache is a file": blocker, "cache under a file": blocker / "x", "stats is a file": tmp_path}[layout]
    if layout == "stats is a file":
        blocker.rename(tmp_path / "stats")
    monkeypatch.setenv("GENZOO_CACHE", str(cache))
    s = _score(small_samples, small_ref, ["kid"])
    assert "kid" in s
    assert any(n.startswith(f"could not cache reference statistics in {cache / 'stats'}: a file is in the way")
               for n in s.notes)
    assert any(n.endswith(": computed") for n in s.notes)


def test_score_command_with_the_cache_under_a_file(small_samples, tmp_path, monkeypatch, capsys):
    from genzoo.metrics import cli

    (tmp_path / "hostname").write_text("box\n")
    monkeypatch.setenv("GENZOO_CACHE", str(tmp_path / "hostname" / "x"))
    pt = tmp_path / "samples.pt"
    torch.save(small_samples.clone(), pt)
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["score", str(pt), "--reference", "fashion-mnist", "--metrics", "kid"])
    assert args.func(args) == 0
    assert "a file is in the way" in capsys.readouterr().out
