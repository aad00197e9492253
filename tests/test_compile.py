"""Compiled training steps (issue #27, ``fit(compile=True)``, :mod:`genzoo.training.compile`): on
the CPU the compiled path is held against eager, 20 steps of every registered model (tiny preset),
within 1e-4 relative on every logged value; what cannot be compiled says why in one warning line
and trains eagerly (then bit for bit the eager fit).

Backends. Every model is compiled with ``Compile(backend="aot_eager")``: TorchDynamo's capture and
AOTAutograd's forward/backward graphs, functionalized, run as ATen ops: where genzoo's side of
compilation lives (the draws kept out of the graph, the state writes that end a graph, the GAN's
generated batch a stage of its own, the packed draws made before the update). TorchInductor's code
generation is held once (``fit(compile=True)``, the MLP GAN): compiling with it takes 10-40 s per
model on this 2-core CPU, too long for every model in the suite."""

from __future__ import annotations

import dataclasses
import math
import warnings

import pytest
import torch

import genzoo
from genzoo.bench.execute import compile_entry
from genzoo.models.base import GenerativeModel
from genzoo.training import Compile
from genzoo.training.compile import compile_refusal, resolve_compile

STEPS = 20
AOT = Compile(backend="aot_eager")


@pytest.fixture(scope="module")
def data(fashion_train):
    return fashion_train.subset(256, seed=0)


def _fit(name: str, data, compile, steps: int = STEPS, **config):
    model = genzoo.get_model(name, preset="tiny")
    model.config = dataclasses.replace(model.config, max_steps=steps, **config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data, seed=0, device="cpu", compile=compile)
    said = [str(w.message) for w in caught if "compiled" in str(w.message)]
    return model, said


def _assert_close(eager: list[dict], compiled: list[dict], steps: int = STEPS, rel: float = 1e-4) -> None:
    assert len(eager) == len(compiled) == steps
    for a, b in zip(eager, compiled):
        assert a.keys() == b.keys()
        for k in a:
            assert math.isfinite(b[k])
            assert abs(a[k] - b[k]) <= rel * max(abs(a[k]), 1e-3), (a["step"], k, a[k], b[k])


@pytest.mark.parametrize("name", genzoo.list_models())
def test_compiled_fit_matches_eager_or_says_why(name, data):
    """Each registered model: compiled, its 20 steps' logged values within 1e-4 of eager's; or a
    one-line warning naming the model and why, and then the eager fit itself."""
    probe = genzoo.get_model(name, preset="tiny")
    if not probe.supports(data):
        pytest.skip(f"{name} does not train on images")
    declared = probe.compile_refusal()
    scheduled = type(probe).schedule is not GenerativeModel.schedule
    steps = 3 if declared or scheduled else STEPS          # a refused fit is the eager one: a few steps show it
    eager, _ = _fit(name, data, False, steps)
    compiled, said = _fit(name, data, AOT, steps)
    if compiled.compiled_:
        assert said == []
        _assert_close(eager.history_, compiled.history_, steps)
        for p, q in zip(eager.nets_.parameters(), compiled.nets_.parameters()):    # the weights too
            torch.testing.assert_close(q, p, rtol=1e-3, atol=1e-4)
    else:
        assert len(said) == 1 and "\n" not in said[0], said
        assert said[0].startswith(f"{name} is not compiled (") and said[0].endswith("it trains eagerly")
        assert compiled.history_ == eager.history_                      # eagerly: the eager fit, bit for bit
        assert declared is not None or (scheduled and "schedule" in said[0])
    assert declared is None or not compiled.compiled_                  # a declared refusal is never compiled


def test_refusals_name_the_double_backward_and_the_buffer():
    """WGAN-GP's penalty and StyleGAN's R1 (double backward) and experience replay are refused;
    a GAN without them is not."""
    assert "double backward" in genzoo.get_model("wgan-gp", preset="tiny").compile_refusal()
    assert "R1" in genzoo.get_model("stylegan", preset="tiny").compile_refusal()
    assert "replay" in genzoo.get_model("gan-replay", preset="tiny").compile_refusal()
    assert genzoo.get_model("dcgan", preset="tiny").compile_refusal() is None
    assert compile_refusal(genzoo.get_model("stylegan", preset="tiny", r1_gamma=0.0)) is None


def test_inductor_compiles_the_mlp_gan_like_eager(data):
    """``fit(compile=True)``: TorchInductor's generated kernels, within 1e-4 of eager."""
    eager, _ = _fit("gan", data, False)
    compiled, said = _fit("gan", data, True)
    assert compiled.compiled_ and said == []
    _assert_close(eager.history_, compiled.history_)


@pytest.mark.parametrize("name", ["gan", "vae"])   # the MLP GAN: its generated batch a stage (as DCGAN)
def test_packed_compiled_matches_packed_eager(name, data):
    """``fit_seeds(compile=True)``: each update's vmapped loss compiled, its draws made before it
    by every seed's generators: each seed's 20 steps within 1e-4 of the eager packed fit's."""
    model = genzoo.get_model(name, preset="tiny")
    model.config = dataclasses.replace(model.config, max_steps=STEPS)
    eager = genzoo.fit_seeds(model, data, seeds=[0, 3], device="cpu")
    compiled = genzoo.fit_seeds(model, data, seeds=[0, 3], device="cpu", compile=AOT)
    for e, c in zip(eager, compiled):
        assert c.compiled_ and not e.compiled_
        _assert_close(e.history_, c.history_)
    assert eager[0].history_ != eager[1].history_                   # two seeds, two fits


def test_bad_compile_values_are_refused_in_one_line(data):
    model = genzoo.get_model("gan", preset="tiny")
    for bad in ("yes", 1, Compile):
        with pytest.raises(ValueError, match=r"^compile must be True, False or a genzoo.training.Compile"):
            model.fit(data, seed=0, device="cpu", compile=bad)
        with pytest.raises(ValueError, match=r"^compile must be"):
            genzoo.fit_seeds(model, data, seeds=[0, 1], device="cpu", compile=bad)
    assert not model.is_fitted
    with pytest.raises(ValueError, match="backend"):
        Compile(backend="")


def test_auto_compiles_long_cuda_fits_only():
    """The bench's ``--compile``: auto is on for a CUDA fit of 1,000 steps or more, off on a CPU."""
    assert resolve_compile("auto", "cuda", 5000) is True
    assert resolve_compile("auto", "cuda:1", 999) is False
    assert resolve_compile("auto", "cpu", 10**6) is False
    assert resolve_compile("on", "cpu", 1) is True and resolve_compile("off", "cuda", 10**6) is False
    with pytest.raises(ValueError, match="compile must be one of auto, on, off"):
        resolve_compile("always", "cpu", 1)


def test_a_record_says_what_was_compiled_and_why_not(data):
    """A run record's ``train.compile``: what was asked, whether done, and why not."""
    done, _ = _fit("gan", data, AOT, steps=2)
    refused, _ = _fit("wgan-gp", data, AOT, steps=2)
    assert compile_entry("on", True, done) == {"asked": "on", "compiled": True}
    entry = compile_entry("auto", True, refused)
    assert entry["compiled"] is False and "double backward" in entry["why_not"]
    assert compile_entry("auto", False, refused) == {"asked": "auto", "compiled": False}
