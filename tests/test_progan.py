"""ProGAN (genzoo/models/progan.py) and the Karras layers it shares with StyleGAN
(genzoo/models/_karras.py): equalized learning rate, pixel norm, minibatch std over groups, the
fade-in of the networks and of the real images, a tiny fit on Fashion-MNIST and one on 32x32
generated images, sampling at each resolution it grew through, save / load."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import genzoo
from genzoo.data import Dataset
from genzoo.models._karras import (EqualConv2d, EqualLinear, KarrasDiscriminator, MinibatchStdGroup, PixelNorm,
                                   downsample, fade_reals, group_size, upsample)
from genzoo.models.progan import ProGenerator


@pytest.fixture(scope="module")
def progan(fashion_small):
    return genzoo.get_model("progan", "tiny").fit(fashion_small, seed=0, device="cpu")


def test_equalized_lr_scales_the_stored_n01_weights_by_hes_constant():
    torch.manual_seed(0)
    conv = EqualConv2d(64, 128, 3)
    fan_in = 64 * 9
    assert abs(conv.weight.std().item() - 1.0) < 0.01 and abs(conv.weight.mean().item()) < 0.01   # stored: N(0, 1)
    assert torch.equal(conv.effective_weight(), conv.weight * (math.sqrt(2) / math.sqrt(fan_in)))
    assert abs(conv.effective_weight().std().item() / math.sqrt(2 / fan_in) - 1) < 0.01          # He's std
    x = torch.randn(2, 64, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.effective_weight(), conv.bias, padding=1), atol=1e-5)
    rgb = EqualConv2d(16, 3, 1, gain=1.0)                                 # a linear output: gain 1
    assert torch.equal(rgb.effective_weight(), rgb.weight / 4)
    dense = EqualLinear(256, 64)
    assert torch.equal(dense.effective_weight(), dense.weight * math.sqrt(2) / 16)
    assert torch.allclose(dense(x.new_ones(3, 256)), x.new_ones(3, 256) @ dense.effective_weight().t())
    slow = EqualLinear(256, 64, lr_mul=0.01)                              # stored N(0, 100^2), scaled back
    assert abs(slow.weight.std().item() / 100 - 1) < 0.02
    assert abs(slow.effective_weight().std().item() / math.sqrt(2 / 256) - 1) < 0.02


def test_pixel_norm_makes_each_pixels_features_unit_mean_square():
    x = torch.randn(4, 16, 5, 5) * 7
    y = PixelNorm()(x)
    assert torch.allclose(y.pow(2).mean(1), torch.ones(4, 5, 5), atol=1e-5)
    assert torch.allclose(PixelNorm()(3 * x), y, atol=1e-5)                # only the direction is kept
    assert torch.allclose(PixelNorm()(torch.randn(6, 8)).pow(2).mean(1), torch.ones(6), atol=1e-5)   # latents


def test_minibatch_std_is_taken_over_groups():
    """Batch 8, groups of 4: item i is in group i mod 2 (the official reshape), and gets its
    group's mean standard deviation; identical items give ~0."""
    x = torch.randn(8, 3, 4, 4)
    out = MinibatchStdGroup(4)(x)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    for g in (0, 1):
        members = x[g::2]                                                  # items g, g+2, g+4, g+6
        want = torch.sqrt(members.var(0, unbiased=False) + 1e-8).mean()
        assert torch.allclose(out[g::2, 3], want.expand(4, 4, 4), atol=1e-6)
    assert not torch.allclose(out[0, 3], out[1, 3])
    same = MinibatchStdGroup(4)(torch.ones(8, 3, 4, 4))
    assert float(same[:, 3].max()) < 1e-3
    assert [group_size(n, 4) for n in (16, 8, 6, 2, 1, 7)] == [4, 4, 3, 2, 1, 1]


def test_the_fade_in_of_the_real_images_and_of_the_networks():
    """During a fade the real images are blended with their 2x-downsampled-then-upsampled copy; at
    alpha 0 G renders the previous level blown up, and D judges the downsampled image with the
    previous level's layers: the new block enters with weight alpha."""
    x = torch.rand(4, 1, 14, 14)
    blurred = upsample(downsample(x))
    assert torch.allclose(blurred[:, :, :2, :2], x[:, :, :2, :2].mean((2, 3), keepdim=True).expand(-1, -1, 2, 2))
    assert torch.equal(fade_reals(x, 1.0), x) and torch.equal(fade_reals(x, 0.0), blurred)
    assert torch.allclose(fade_reals(x, 0.25), 0.75 * blurred + 0.25 * x, atol=1e-6)
    torch.manual_seed(0)
    G, D = ProGenerator(8, 1, 8, 28), KarrasDiscriminator(1, 8, 28)
    z = torch.randn(4, 8)
    with torch.no_grad():
        assert G(z).shape == (4, 1, 28, 28) and G(z, 0).shape == (4, 1, 7, 7) and G(z, 1).shape == (4, 1, 14, 14)
        assert torch.allclose(G(z, 1, 0.0), upsample(G(z, 0)), atol=1e-6)
        assert torch.allclose(G(z, 1, 0.3), 0.7 * upsample(G(z, 0)) + 0.3 * G(z, 1), atol=1e-5)
        assert torch.allclose(D(x, 1, 0.0), D(downsample(x), 0), atol=1e-6)
        assert not torch.allclose(D(x, 1, 0.5), D(x, 1, 1.0))
        assert D(torch.rand(4, 1, 28, 28)).shape == (4,)                          # one logit per image
    with pytest.raises(ValueError, match="at level 0 takes images of side 7"):
        D(x, 0)


def test_a_tiny_progan_fits_fashion_and_samples_at_each_resolution(progan, fashion_small, tmp_path):
    h = progan.history_
    assert len(h) == 40 and {r["resolution"] for r in h} == {7, 14, 28} and h[-1]["alpha"] == 1.0
    assert {"loss_d", "loss_g", "penalty", "drift", "wasserstein", "d_real", "d_fake"} <= set(h[0])
    assert all(math.isfinite(r[k]) for r in h for k in r)
    assert progan.resolutions == [7, 14, 28] and progan.sampling_nets() == ("G_ema",)
    x = progan.sample(16, seed=1)
    assert x.shape == (16, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    for side in (7, 14):
        assert progan.sample(5, seed=1, resolution=side).shape == (5, 1, side, side)
    assert torch.equal(progan.sample(5, seed=1, resolution=28), progan.sample(5, seed=1)[:5])
    with pytest.raises(ValueError, match=r"^progan: resolution must be one of the sides it grew through, 7, 14, 28, got 16$"):
        progan.sample(2, resolution=16)
    # the average samples: it differs from the trained generator
    with progan.sampling_from_trained():
        assert not torch.equal(progan.sample(4, seed=1), x[:4])
    for sampler_only in (False, True):
        folder = tmp_path / f"m{sampler_only}"
        progan.save_pretrained(folder, sampler_only=sampler_only)
        back = genzoo.load(folder)
        assert torch.equal(back.sample(8, seed=3), progan.sample(8, seed=3))
        assert torch.equal(back.sample(8, seed=3, resolution=14), progan.sample(8, seed=3, resolution=14))


def test_progan_grows_from_4_on_32x32_images():
    g = torch.Generator().manual_seed(0)
    data = Dataset("blobs32", torch.randint(0, 256, (64, 3, 32, 32), generator=g, dtype=torch.uint8),
                   torch.zeros(64, dtype=torch.long), 1, ("x",))
    m = genzoo.get_model("progan", "tiny", max_steps=14).fit(data, seed=0, device="cpu")
    assert m.resolutions == [4, 8, 16, 32]
    assert [p.name for p in m.schedule().phases] == ["stabilize 4", "fade in 8", "stabilize 8", "fade in 16",
                                                     "stabilize 16", "fade in 32", "stabilize 32"]
    assert sorted({r["resolution"] for r in m.history_}) == [4, 8, 16, 32]
    assert m.sample(3, seed=0).shape == (3, 3, 32, 32) and m.sample(3, resolution=4).shape == (3, 3, 4, 4)


def test_a_schedule_with_no_room_for_the_last_phase_is_refused(fashion_small):
    with pytest.raises(ValueError, match=r"^progan: its 4 growing phases of phase_kimg = 300 leave nothing of "
                                         r"total_kimg = 1000 for the last phase at 28x28: set total_kimg above 1200$"):
        genzoo.get_model("progan", "tiny", phase_kimg=300, total_kimg=1000).fit(fashion_small, seed=0)


def test_the_papers_settings_are_the_defaults():
    c = genzoo.get_model("progan").config
    assert (c.lr, c.beta1, c.beta2, c.gp_lambda, c.drift, c.ema, c.mbstd_group) == (1e-3, 0.0, 0.99, 10.0, 0.001,
                                                                                    0.999, 4)
    assert (c.batch_size, c.latent_dim, c.g_width, c.d_width, c.phase_kimg, c.total_kimg) == (16, 128, 128, 128,
                                                                                              400.0, 20000.0)
