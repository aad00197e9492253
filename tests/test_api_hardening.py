"""Hostile input to the public API: each probe ends in one ValueError (or CheckpointError) line
naming the input and what is accepted, raised before any network is built or any step is taken,
the model left as it was. Real data and real tiny models throughout."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import warnings
from pathlib import Path
from typing import ClassVar

import pytest
import torch

import genzoo
from genzoo import limits
from genzoo.data import Dataset
from genzoo.errors import CheckpointError
from genzoo.models import BaseConfig

REPO = Path(__file__).resolve().parent.parent


def tiny(name: str, **overrides):
    return genzoo.get_model(name, preset="tiny", max_steps=2, **overrides)


@pytest.fixture(scope="module")
def images() -> Dataset:
    """64 test images as floats in [0, 1] (the loader keeps uint8; these tests scale the floats)."""
    ds = genzoo.data.load("fashion-mnist", split="test").subset(64, seed=0)
    return like(ds, x=genzoo.data.as_float(ds.x))


@pytest.fixture(scope="module")
def ring() -> Dataset:
    return genzoo.data.load("ring", n=256)


@pytest.fixture(scope="module")
def fitted_dcgan(images):
    return tiny("dcgan").fit(images, seed=0, device="cpu")


def like(data: Dataset, **changes) -> Dataset:
    return dataclasses.replace(data, name="probe", **changes)


def refused(model, data, match: str, **fit_options) -> str:
    """``model.fit(data)`` raises ValueError matching ``match``, in one line, and leaves the model
    as it was (unfitted: no fitted attribute; fitted: the same networks and history)."""
    before = {k: v for k, v in vars(model).items() if k.endswith("_")}
    with pytest.raises(ValueError, match=match) as err:
        model.fit(data, device="cpu", **fit_options)
    after = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert "\n" not in str(err.value)
    return str(err.value)


# --- 1. fewer than 2 items -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dcgan", "ae", "cgan"])
def test_fit_on_one_item_is_refused(name, images):
    one = like(images, x=images.x[:1], y=images.y[:1])
    msg = refused(tiny(name, batch_size=1), one, "needs at least 2 items")
    assert "'probe'" in msg and "only 1 item" in msg
    with pytest.raises(ValueError, match="needs at least 2 items"):
        genzoo.fit_seeds(tiny(name, batch_size=1), one, seeds=[0, 1], device="cpu")


# --- 2. labels a conditional model cannot embed --------------------------------------------------

@pytest.mark.parametrize("shift,shown", [(5, "10, 11, 12, 13, 14"), (-3, "-3, -2, -1")])
def test_cgan_refuses_labels_outside_its_classes(shift, shown, images, ring):
    msg = refused(tiny("cgan"), like(images, y=images.y + shift), r"must lie in 0\.\.9 \(num_classes = 10\)")
    assert msg.endswith(f"has labels outside it: {shown}"), msg
    refused(tiny("cgan"), like(ring, y=ring.y * 3), r"0\.\.7")                       # points: 8 classes
    tiny("gan").fit(like(ring, y=ring.y + 100), seed=0, device="cpu")                # unconditional: labels unused


# --- 3. sample's n -------------------------------------------------------------------------------

def test_sample_refuses_more_than_one_call_may_allocate(fitted_dcgan):
    top = limits.max_samples(784)                                     # 28x28 items of float32
    with pytest.raises(ValueError) as err:
        fitted_dcgan.sample(10**8)                                    # once: 5 GB and a minute, then the allocator
    msg = str(err.value)
    assert f"at most {top:,}" in msg and "100,000,000" in msg and "several calls" in msg and "\n" not in msg
    with pytest.raises(ValueError, match=f"decode: n must be at most {top:,}"):
        fitted_dcgan.decode(torch.zeros(top + 1, fitted_dcgan.config.latent_dim))
    for bad in (True, -1, 2.0, "4", None):
        with pytest.raises(ValueError, match=r"sample: n must be a non-negative integer, got"):
            fitted_dcgan.sample(bad)
    assert fitted_dcgan.sample(0).shape == (0, 1, 28, 28)


# --- 4. images outside [0, 1] --------------------------------------------------------------------

def test_fit_refuses_images_outside_the_unit_range(images, ring, fitted_dcgan):
    msg = refused(tiny("vae"), like(images, x=images.x * 255), r"must lie in \[0, 1\]")
    assert "from 0 to 255" in msg and "divide them by 255" in msg
    refused(tiny("dcgan"), like(images, x=images.x - 0.5), r"\[0, 1\].*from -0\.5 to 0\.5")
    refused(fitted_dcgan, like(images, x=images.x * 2), r"from 0 to 2")          # a fitted model keeps its nets
    refused(tiny("dcgan"), like(images, x=images.x.double()), "dtype torch.float64.*float32")
    tiny("gan").fit(like(ring, x=ring.x * 100), seed=0, device="cpu")            # points are unbounded


# --- 5. seeds ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [-1, limits.MAX_SEED + 1, 1.0, True, "0"])
def test_bad_seeds_are_refused_by_fit_sample_and_fit_seeds(seed, ring, fitted_dcgan):
    accepted = re.escape(f"from 0 to {limits.MAX_SEED:,}")
    refused(tiny("gan"), ring, rf"^fit: seed must be an integer {accepted}", seed=seed)
    if seed != limits.MAX_SEED + 1:      # sample takes any torch seed (the runner's are 10,000 + s)
        with pytest.raises(ValueError, match=rf"^sample: seed must be an integer from 0 to {limits.MAX_SAMPLE_SEED:,}"):
            fitted_dcgan.sample(2, seed=seed)
    with pytest.raises(ValueError, match=rf"^fit_seeds: seeds\[1\] must be an integer {accepted}"):
        genzoo.fit_seeds(tiny("gan"), ring, seeds=[0, seed], device="cpu")


def test_sample_takes_the_seeds_the_runner_derives_from_the_largest_training_seed(fitted_dcgan):
    """A run of seed MAX_SEED scores samples of seed 10,000 + MAX_SEED: sample must take it."""
    big = 10_000 + limits.MAX_SEED + 1
    assert torch.equal(fitted_dcgan.sample(2, seed=big), fitted_dcgan.sample(2, seed=big))
    with pytest.raises(ValueError, match="sample: seed"):
        fitted_dcgan.sample(2, seed=limits.MAX_SAMPLE_SEED + 1)


def test_fit_seeds_refuses_a_seed_list_it_cannot_take(ring):
    for seeds, why in (([], "non-empty list"), (3, "non-empty list"), ("01", "non-empty list"),
                       ([2, 2], "given twice")):
        with pytest.raises(ValueError, match=why):
            genzoo.fit_seeds(tiny("gan"), ring, seeds=seeds, device="cpu")
    assert limits.check_seed(limits.MAX_SEED) == limits.MAX_SEED
    tiny("gan").fit(ring, seed=limits.MAX_SEED, device="cpu")                 # the largest seed trains


# --- 6. batch size -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", genzoo.list_models())
def test_batch_size_is_bounded_in_the_config_and_by_the_data(name, images, ring):
    accepted = rf"\[1, {limits.MAX_BATCH_SIZE}\]"
    with pytest.raises(ValueError, match=rf"^{name}: batch_size must be in {accepted}, got 1000000000$"):
        genzoo.get_model(name, batch_size=10**9)
    data = images if "image" in genzoo.models.get_model_class(name).data_kinds else ring
    model = tiny(name, batch_size=2 * len(data))
    with pytest.raises(ValueError, match=rf"batch_size = {2 * len(data)} is more than the {len(data)} items"):
        model.check_data(data)                                       # the runner asks before it trains anything
    refused(model, data, f"set batch_size to at most {len(data)}")


def test_check_data_is_public_draws_nothing_and_knows_batch_norm(images, ring):
    state = torch.random.get_rng_state()
    assert tiny("dcgan").check_data(images) is None
    assert torch.equal(torch.random.get_rng_state(), state)          # the batch-norm probe draws no weights
    assert tiny("dcgan").min_batch_size(images) == 2 and tiny("gan").min_batch_size(ring) == 1
    refused(tiny("dcgan", batch_size=1), images, "batch_size = 1 is too small for dcgan.*at least 2 items per batch")
    refused(tiny("gan", batch_size=1, g_batch_norm=True), ring, "at least 2 items per batch")
    assert len(tiny("gan", batch_size=1).fit(ring, seed=0, device="cpu").history_) == 2   # no batch norm: fine


# --- 7. empty and zero-width layer lists ----------------------------------------------------------

TUPLE_FIELDS = [(name, f.name) for name in genzoo.list_models()
                for f in dataclasses.fields(genzoo.get_model(name).config) if isinstance(f.default, tuple)]


@pytest.mark.parametrize("name,field", TUPLE_FIELDS, ids=[f"{n}-{f}" for n, f in TUPLE_FIELDS])
def test_an_empty_layer_list_is_refused(name, field):
    with pytest.raises(ValueError, match=rf"^{name}: {field} must hold at least 1 entry, got \(\)$"):
        tiny(name, **{field: []})
    with pytest.raises(ValueError, match=rf"^{name}: {field} entries must be >= 1"):
        tiny(name, **{field: [0]})


def test_min_lengths_declares_what_a_tuple_field_takes():
    @dataclasses.dataclass(frozen=True)
    class Sizes(BaseConfig):
        MIN_LENGTHS: ClassVar[dict[str, int]] = {"may_be_empty": 0, "pair": 2}
        sizes: tuple[int, ...] = (1,)
        may_be_empty: tuple[int, ...] = ()
        pair: tuple[int, ...] = (1, 2)

    assert Sizes().may_be_empty == () and Sizes(pair=[3, 4, 5]).pair == (3, 4, 5)
    with pytest.raises(ValueError, match=r"sizes must hold at least 1 entry, got \(\)"):
        Sizes(sizes=[])
    with pytest.raises(ValueError, match=r"pair must hold at least 2 entries, got \(3,\)"):
        Sizes(pair=[3])


# --- 8. tamper-evident checkpoints ---------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(tmp_path_factory, ring):
    """A tiny GAN saved in full and sampler-only."""
    m = tiny("gan").fit(ring, seed=0, device="cpu")
    root = tmp_path_factory.mktemp("ckpt")
    return m, m.save_pretrained(root / "full"), m.save_pretrained(root / "sampler", sampler_only=True)


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _flip_tail(weights: Path, n: int = 100) -> None:
    data = bytearray(weights.read_bytes())
    data[-n:] = bytes(b ^ 0xFF for b in data[-n:])
    weights.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["full", "sampler"])
def test_a_changed_weights_file_is_refused_unless_verify_is_off(which, saved, tmp_path):
    model, full, sampler = saved
    folder = _copy(full if which == "full" else sampler, tmp_path)
    weights = folder / "model.safetensors"
    want = hashlib.sha256(weights.read_bytes()).hexdigest()
    record = json.loads((folder / "config.json").read_text())["files"]
    assert record == {"model.safetensors": {"sha256": want, "bytes": weights.stat().st_size}}
    _flip_tail(weights)                                          # still a valid safetensors file: values changed
    got = hashlib.sha256(weights.read_bytes()).hexdigest()
    for load in (genzoo.load, genzoo.models.load):
        with pytest.raises(CheckpointError) as err:
            load(folder)
        msg = str(err.value)
        assert str(weights) in msg and got[:12] in msg and want[:12] in msg and "verify=False" in msg, msg
        assert "\n" not in msg
    loose = genzoo.load(folder, verify=False).nets_.state_dict()  # the documented way past the check
    assert any(not torch.equal(v, model.nets_.state_dict()[k]) for k, v in loose.items())   # the flipped values
    with pytest.raises(ValueError, match="verify must be True or False"):
        genzoo.load(folder, verify="no")


def test_genzoo_score_refuses_a_changed_weights_file_in_one_line_unless_no_verify(saved, tmp_path, capsys):
    from genzoo.cli import main

    folder = _copy(saved[1], tmp_path)
    _flip_tail(folder / "model.safetensors")
    argv = ["score", str(folder), "--reference", "ring", "--n", "500", "--metrics", "modes_covered"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was changed after it was saved" in err[0] and "--no-verify" in err[0], err
    assert main([*argv, "--no-verify"]) == 0
    assert "modes_covered" in capsys.readouterr().out


def test_config_json_keeps_its_keys_and_adds_the_file_record(saved):
    _, full, sampler = saved
    for folder, extra in ((full, set()), (sampler, {"sampler_only"})):
        meta = json.loads((folder / "config.json").read_text())
        assert set(meta) == {"class", "model", "genzoo_version", "config", "fitted", "files"} | extra


def test_folders_saved_before_the_hashes_load_silently(saved, tmp_path):
    model, full, _ = saved
    folder = _copy(full, tmp_path)
    meta = json.loads((folder / "config.json").read_text())
    del meta["files"]
    (folder / "config.json").write_text(json.dumps(meta, indent=2))
    committed = sorted(REPO.glob("results/*/runs/*-s0/sampler"))
    committed = [d for d in committed if (d / "model.safetensors").is_file()][:2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(genzoo.load(folder).sample(4, seed=2), model.sample(4, seed=2))
        for d in committed:                                       # the demo's folders, written before the hashes
            assert genzoo.load(d).sample(2, seed=0).shape[0] == 2


@pytest.mark.parametrize("files", [[], {"model.safetensors": {"sha256": "abc", "bytes": 1}}, {"other": {}}])
def test_a_malformed_file_record_names_config_json(files, saved, tmp_path):
    folder = _copy(saved[1], tmp_path)
    meta = json.loads((folder / "config.json").read_text())
    meta["files"] = files
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=re.escape(str(folder / "config.json")) + ": 'files' must record"):
        genzoo.load(folder)
    assert genzoo.load(folder, verify=False).is_fitted
