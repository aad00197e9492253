"""Damaged model folders and bad ``genzoo score`` input: one clear error naming the file, never a
traceback. The command line runs for real, as a subprocess, on a tiny model fitted here."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest
import torch

import genzoo
import genzoo.metrics
from genzoo.errors import CheckpointError


@pytest.fixture(scope="module")
def saved_gan(tmp_path_factory):
    """A tiny GAN fitted on the ring and saved: the folder every tampering starts from."""
    m = genzoo.get_model("gan", preset="tiny").fit(genzoo.data.load("ring", n=500), seed=0, device="cpu")
    return m.save_pretrained(tmp_path_factory.mktemp("gan") / "model")


def _edit_config(edit):
    def tamper(folder):
        path = folder / "config.json"
        meta = json.loads(path.read_text())
        meta = edit(meta)
        path.write_text(json.dumps(meta) if not isinstance(meta, str) else meta)
    return tamper


def _truncate_weights(folder):
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set(section, key, value):
    def edit(meta):
        meta[section][key] = value
        return meta
    return edit


def _drop(*keys):
    def edit(meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]
        return meta
    return edit


# name: (tampering, the file the message must name, a phrase it must hold)
DAMAGE = {
    "config-not-json": (_edit_config(lambda meta: '{"model": "gan", '), "config.json", "not valid JSON"),
    "config-a-list": (_edit_config(lambda meta: [meta]), "config.json", "JSON list"),
    "config-without-fitted": (_edit_config(_drop("fitted")), "config.json", "'fitted'"),
    "config-without-model": (_edit_config(_drop("model")), "config.json", "'model'"),
    "fitted-without-shape": (_edit_config(_drop("fitted", "shape")), "config.json", "shape"),
    "unknown-model": (_edit_config(lambda meta: {**meta, "model": "bigan"}), "config.json", "unknown model 'bigan'"),
    "bad-config-value": (_edit_config(_set("config", "max_steps", -5)), "config.json", "max_steps must be >= 1"),
    "unknown-config-key": (_edit_config(_set("config", "latnet_dim", 4)), "config.json", "latnet_dim"),
    "latent-dim-changed": (_edit_config(_set("config", "latent_dim", 9)), "model.safetensors",
                           "do not match the networks config.json describes"),
    "hidden-changed": (_edit_config(_set("config", "g_hidden", [64, 32])), "model.safetensors", "size mismatch"),
    "weights-truncated": (_truncate_weights, "model.safetensors", "truncated"),
    "weights-missing": (lambda folder: (folder / "model.safetensors").unlink(), "model.safetensors", "missing"),
}


def _damaged(saved_gan, tmp_path, case):
    folder = tmp_path / case
    shutil.copytree(saved_gan, folder)
    DAMAGE[case][0](folder)
    return folder


@pytest.mark.parametrize("case", list(DAMAGE))
def test_load_of_a_damaged_folder_raises_checkpoint_error_naming_the_file(saved_gan, tmp_path, case):
    assert genzoo.load(saved_gan).config == genzoo.get_model("gan", preset="tiny").config   # intact: loads
    with pytest.raises(FileNotFoundError, match="no config.json"):                         # missing: as before
        genzoo.load(tmp_path / "nowhere")
    folder = _damaged(saved_gan, tmp_path, case)
    _, file, phrase = DAMAGE[case]
    with pytest.raises(CheckpointError) as err:
        genzoo.load(folder)
    msg = str(err.value)
    assert str(folder / file) in msg and phrase in msg, msg
    assert "\n" not in msg
    assert isinstance(err.value, ValueError) and isinstance(err.value, genzoo.UserError)


def _score(*args, env=None):
    """``genzoo score ARGS`` as a subprocess: (returncode, stdout, stderr)."""
    out = subprocess.run([sys.executable, "-m", "genzoo", "score", *map(str, args)],
                         capture_output=True, text=True, timeout=300, env=env)
    return out.returncode, out.stdout, out.stderr


def _assert_one_line_error(rc, err, *names):
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genzoo score: error:"), err
    for name in names:
        assert str(name) in lines[0], err


@pytest.mark.parametrize("case", ["weights-truncated", "latent-dim-changed", "config-without-fitted",
                                  "config-a-list", "config-not-json", "bad-config-value"])
def test_score_of_a_damaged_folder_is_one_line(saved_gan, tmp_path, case):
    folder = _damaged(saved_gan, tmp_path, case)
    rc, _, err = _score(folder, "--reference", "ring", "--n", 50)
    _assert_one_line_error(rc, err, folder / DAMAGE[case][1], DAMAGE[case][2])


def test_score_device_cuda_without_cuda_is_one_line(saved_gan):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}        # no GPU visible, whatever the machine has
    rc, out, err = _score(saved_gan, "--reference", "ring", "--n", 50, "--device", "cuda", env=env)
    _assert_one_line_error(rc, err, "--device cuda", "CUDA is not available")
    assert out == "", "the check comes before any scoring"


def test_score_json_into_a_folder_is_refused_before_scoring(saved_gan, tmp_path):
    rc, out, err = _score(saved_gan, "--reference", "ring", "--n", 50, "--json", tmp_path)
    _assert_one_line_error(rc, err, f"--json {tmp_path} is a folder")
    assert out == "", "the check comes before any scoring"


def _junk(path):
    path.write_bytes(b"these are not the samples you are looking for" * 3)


def _object(path):
    torch.save(argparse.Namespace(samples=[1, 2]), path)     # a pickle weights_only refuses


def _plain_pickle(path):
    path.write_bytes(pickle.dumps({"samples": [1.0, 2.0]}))


def _truncated(path):
    torch.save(torch.zeros(100, 2), path)
    path.write_bytes(path.read_bytes()[:200])


def _a_dict(path):
    torch.save({"samples": torch.zeros(100, 2)}, path)


@pytest.mark.parametrize("write", [_junk, _object, _plain_pickle, _truncated, _a_dict], ids=lambda f: f.__name__[1:])
def test_score_of_a_pt_file_that_is_not_a_tensor_is_one_line(tmp_path, write):
    pt = tmp_path / "samples.pt"
    write(pt)
    rc, _, err = _score(pt, "--reference", "ring", "--n", 50)
    _assert_one_line_error(rc, err, pt, "is not a tensor file written by torch.save")


def test_score_of_non_finite_samples_is_one_line(tmp_path):
    x = torch.randn(100, 2)
    x[3, 0], x[7, 1] = float("nan"), float("inf")
    pt = tmp_path / "samples.pt"
    torch.save(x, pt)
    rc, out, err = _score(pt, "--reference", "ring", "--n", 50)
    _assert_one_line_error(rc, err, pt, "2 of 50 samples are not finite (NaN or inf): nothing to score")
    assert "nan" not in out.lower()


def test_score_api_refuses_non_finite_samples_from_a_tensor_and_a_model(saved_gan):
    ring = genzoo.data.load("ring", split="test", n=500)
    x = torch.randn(64, 2)
    x[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"^1 of 64 samples are not finite \(NaN or inf\): nothing to score$"):
        genzoo.metrics.score(x, ring)
    model = genzoo.load(saved_gan)
    with torch.no_grad():
        next(reversed(list(model.nets_["G"].parameters()))).fill_(float("nan"))   # G's output bias
    with pytest.raises(ValueError, match=r"^40 of 40 samples are not finite"):
        genzoo.metrics.score(model, ring, n=40)
