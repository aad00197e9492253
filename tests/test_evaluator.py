"""The shipped evaluator CNN: accuracy, integrity check, shapes."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import torch

import genzoo
from genzoo.metrics import EvaluatorWeightsError, evaluator
from genzoo.metrics.evaluator import WEIGHTS_PATH, WEIGHTS_SHA256, file_sha256, load_evaluator
from genzoo.metrics.evaluator.train import accuracy, augment


def test_accuracy_on_the_test_split_is_at_least_92_percent():
    test = genzoo.data.load("fashion-mnist", split="test")
    assert len(test) == 10_000
    acc = accuracy(evaluator(), test.x, test.y)
    assert acc >= 0.92, f"evaluator test accuracy {acc:.4f}"


def test_weights_are_small_and_match_the_recorded_sha256():
    assert WEIGHTS_PATH.is_file() and WEIGHTS_PATH.stat().st_size < 5 * 2**20
    assert file_sha256(WEIGHTS_PATH) == WEIGHTS_SHA256


def test_a_changed_or_missing_weights_file_is_refused(tmp_path):
    bad = tmp_path / "fashion_cnn.safetensors"
    shutil.copyfile(WEIGHTS_PATH, bad)
    data = bytearray(bad.read_bytes())
    data[-1] ^= 1                                       # flip one bit of the last weight
    bad.write_bytes(bytes(data))
    with pytest.raises(EvaluatorWeightsError, match="sha256"):
        load_evaluator(bad)
    with pytest.raises(EvaluatorWeightsError, match="not found"):
        load_evaluator(tmp_path / "absent.safetensors")
    load_evaluator(bad, sha256=None)                    # the check can be skipped deliberately


def test_evaluator_is_cached_and_applies_per_channel():
    net = evaluator()
    assert net is evaluator() and not net.training
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 1, 28, 28, generator=g)
    assert net.features(x).shape == (5, 128) and net.logits(x).shape == (5, 10)
    stacked = torch.rand(5, 3, 28, 28, generator=g)
    f, lg = net.features(stacked), net.logits(stacked)
    assert f.shape == (5, 384) and lg.shape == (5, 3, 10)
    for c in range(3):
        one = stacked[:, c:c + 1]
        torch.testing.assert_close(f[:, 128 * c:128 * (c + 1)], net.features(one))
        torch.testing.assert_close(lg[:, c], net.logits(one))
    stored = (x * 255).round().to(torch.uint8)               # stored pixels are read as /255
    torch.testing.assert_close(net.features(stored), net.features(stored.float() / 255))
    with pytest.raises(TypeError):
        net.features(x.to(torch.int64))
    with pytest.raises(ValueError):
        net.logits(torch.rand(2, 1, 32, 32))


def test_augmentation_is_seeded_and_keeps_shapes():
    x = torch.rand(16, 1, 28, 28)
    a = augment(x, 2, True, torch.Generator().manual_seed(1))
    b = augment(x, 2, True, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    assert torch.equal(augment(x, 0, False, torch.Generator()), x)


def test_training_command_is_runnable_as_a_module():
    out = subprocess.run([sys.executable, "-m", "genzoo.metrics.evaluator", "train", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--epochs" in out.stdout
    assert "RuntimeWarning" not in out.stderr
