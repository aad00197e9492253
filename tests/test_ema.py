"""Generator averaging (the GAN configs' ``ema``): an exponential moving average of G's weights,
kept by the training loop, is what sampling, saving and loading use. Tiny real models, no mocks."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import genzoo
from conftest import bars
from genzoo.training.step import ramped_decay


@pytest.fixture(scope="module")
def bar_data():
    return bars(64, seed=0)


def tiny(name, **overrides):
    return genzoo.get_model(name, preset="tiny", **{"max_steps": 5, "batch_size": 16, **overrides})


class RecordG:
    """Records the generator's weights (parameters, buffers) at the start and after every step."""

    def __init__(self, nets=("G",)):
        self.nets, self.params, self.buffers = nets, [], []

    def _record(self, model):
        self.params.append([p.detach().clone() for n in self.nets for p in model.nets_[n].parameters()])
        self.buffers.append([b.detach().clone() for n in self.nets for b in model.nets_[n].buffers()])

    def sync_steps(self, total):
        return range(1, total + 1)

    def on_fit_start(self, model, total):
        self._record(model)

    def on_step_end(self, model, step, record):
        self._record(model)


@pytest.mark.parametrize("name,nets", [("dcgan", ("G",)), ("cgan", ("G", "g_embed"))])
def test_ema_is_the_average_of_g_after_each_generator_step(name, nets, bar_data):
    decay = 0.9
    rec = RecordG(nets)
    m = tiny(name, ema=decay).fit(bar_data, seed=0, callbacks=[rec])
    assert len(rec.params) == 6                                          # the start and 5 steps
    expected = rec.params[0]                                             # a copy of the fresh G
    for i, params in enumerate(rec.params[1:]):                          # one G step per training step
        d = min(decay, (1 + i) / (10 + i))                               # the ramp of the first updates
        expected = [d * e + (1 - d) * p for e, p in zip(expected, params)]
    averaged = [p for n in nets for p in m.nets_[n + "_ema"].parameters()]
    assert len(averaged) == len(expected)
    for a, e in zip(averaged, expected):
        torch.testing.assert_close(a, e, rtol=1e-6, atol=1e-7)
    assert not all(torch.equal(a, p) for a, p in zip(averaged, rec.params[-1]))   # not G itself
    buffers = [b for n in nets for b in m.nets_[n + "_ema"].buffers()]
    assert buffers and all(torch.equal(b, g) for b, g in zip(buffers, rec.buffers[-1]))   # batch norm copied
    assert not any(p.requires_grad for n in nets for p in m.nets_[n + "_ema"].parameters())


def test_ema_follows_generator_steps_only_with_several_critic_steps(bar_data):
    rec = RecordG()
    m = tiny("wgan", ema=0.5, n_critic=3, max_steps=3, batch_size=8).fit(bar_data, seed=0, callbacks=[rec])
    expected = rec.params[0]
    for i, params in enumerate(rec.params[1:]):                          # 3 generator steps, 9 critic steps
        d = ramped_decay(0.5, i)
        expected = [d * e + (1 - d) * p for e, p in zip(expected, params)]
    for a, e in zip(m.nets_["G_ema"].parameters(), expected):
        torch.testing.assert_close(a, e, rtol=1e-6, atol=1e-7)


def test_the_decay_is_ramped_in_then_constant():
    assert ramped_decay(0.999, 0) == pytest.approx(0.1)                   # the first update mostly replaces
    assert ramped_decay(0.999, 90) == pytest.approx(91 / 100)
    assert ramped_decay(0.999, 10_000) == 0.999 and ramped_decay(0.5, 20) == 0.5


def test_sample_uses_the_averaged_generator(bar_data):
    m = tiny("dcgan", ema=0.9).fit(bar_data, seed=0)
    z = torch.randn(6, m.config.latent_dim, generator=torch.Generator().manual_seed(3))
    out = m.decode(z)
    with torch.no_grad():
        m.nets_.eval()
        by_ema = m.to_data_scale(m.nets_["G_ema"](z))
        by_g = m.to_data_scale(m.nets_["G"](z))
    assert torch.equal(out, by_ema) and not torch.equal(out, by_g)
    assert torch.equal(m.sample(6, seed=1), m.decode(torch.randn(6, m.config.latent_dim,
                                                                  generator=torch.Generator().manual_seed(1))))


@pytest.mark.parametrize("name", ["dcgan", "cgan"])
def test_save_and_load_sample_identically(name, bar_data, tmp_path):
    m = tiny(name, ema=0.9).fit(bar_data, seed=0)
    expected = m.sample(8, seed=2)
    m.save_pretrained(tmp_path / "full")
    full = genzoo.load(tmp_path / "full")
    assert set(full.nets_) == set(m.nets_) and torch.equal(full.sample(8, seed=2), expected)
    m.save_pretrained(tmp_path / "sampler", sampler_only=True)
    sampler = genzoo.load(tmp_path / "sampler")
    assert set(sampler.nets_) == {n + "_ema" for n in type(m).sampler_nets}
    assert sampler.is_sampler_only and torch.equal(sampler.sample(8, seed=2), expected)
    sampler.save_pretrained(tmp_path / "again")                          # stays sampler-only
    assert torch.equal(genzoo.load(tmp_path / "again").sample(8, seed=2), expected)


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5])
def test_ema_outside_0_1_is_a_one_line_value_error(bad):
    with pytest.raises(ValueError, match=r"^dcgan: ema must be in \[0, 1\), got") as info:
        genzoo.get_model("dcgan", ema=bad)
    assert "\n" not in str(info.value)


def test_every_gan_config_has_ema_last():
    from genzoo.models._api import _MODELS

    gans = [cls for cls in _MODELS.values() if cls.family == "gan"]
    assert len(gans) >= 8
    for cls in gans:
        names = [f.name for f in dataclasses.fields(cls.Config)]
        assert names[-1] == "ema" and names.count("ema") == 1, cls.name
    # off by default, but where the model's paper samples from G's average (ProGAN, StyleGAN: 0.999)
    averaged = {cls.name: cls.Config().ema for cls in gans if cls.Config().ema}
    assert averaged == {"progan": 0.999, "stylegan": 0.999}


def test_ema_zero_changes_nothing(bar_data):
    plain = tiny("dcgan").fit(bar_data, seed=0)
    zero = tiny("dcgan", ema=0.0).fit(bar_data, seed=0)
    assert set(zero.nets_) == set(plain.nets_) == {"G", "D"} and zero.weight_averages() == []
    assert zero.history_ == plain.history_
    assert all(torch.equal(a, b) for a, b in zip(zero.nets_.state_dict().values(), plain.nets_.state_dict().values()))
    assert torch.equal(zero.sample(5, seed=1), plain.sample(5, seed=1))
    averaged = tiny("dcgan", ema=0.9).fit(bar_data, seed=0)
    assert averaged.history_ == plain.history_                           # the average never feeds back


def test_fit_seeds_keeps_each_seeds_average_as_its_fit(bar_data):
    models = genzoo.fit_seeds(tiny("dcgan", ema=0.9), bar_data, [0, 1], device="cpu")
    for seed, packed in zip([0, 1], models):
        solo = tiny("dcgan", ema=0.9).fit(bar_data, seed=seed, device="cpu")
        for name in ("G", "G_ema"):
            for a, b in zip(packed.nets_[name].state_dict().values(), solo.nets_[name].state_dict().values()):
                torch.testing.assert_close(a, b)
        torch.testing.assert_close(packed.sample(4, seed=0), solo.sample(4, seed=0))


@pytest.mark.parametrize("name", ["dcgan", "cgan"])
def test_sampling_from_the_average_recomputes_its_batch_norm_statistics(name, bar_data):
    """The averaged G's running statistics are its own (BigGAN's standing statistics): the mean of
    its first batch norm's inputs over the fixed standing codes, not G's copied statistics; the
    same at every sampling, so samples stay reproducible."""
    m = tiny(name, ema=0.9).fit(bar_data, seed=0)
    norm = next(mod for mod in m.nets_["G_ema"].modules() if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)))
    copied = norm.running_mean.clone()
    assert torch.equal(copied, next(mod for mod in m.nets_["G"].modules() if type(mod) is type(norm)).running_mean)
    seen = []
    handle = norm.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach().clone()))
    first = m.sample(16, seed=4)
    handle.remove()
    n_standing = len(seen) - 1                                           # the last call drew the 16 samples
    assert n_standing == 8
    x = torch.cat(seen[:n_standing])
    dims = [0] + list(range(2, x.dim()))
    torch.testing.assert_close(norm.running_mean, x.mean(dims), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(norm.running_mean, copied)
    assert torch.equal(m.sample(16, seed=4), first)
    with m.sampling_from_trained():                                      # the trained G: no recomputation
        raw = m.sample(16, seed=4)
    assert not torch.equal(raw, first)
