"""The Stacked-MNIST networks of VEEGAN / PacGAN as settings of genzoo's DCGAN (issue #24 item 3):
their layer shapes (from PacGAN's code, fjxmlzn/PacGAN stacked_MNIST_experiments/), the smaller
discriminators of PacGAN's Table 3 (``dcgan-smalld``, ``pacdcgan2-smalld``), the stacked
benchmark's profiles building them, and tiny fits. genzoo's default DCGAN is held too (its first
steps bit for bit by tests/test_held.py)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import genzoo
from conftest import bars
from genzoo.bench.spec import load_benchmark
from genzoo.models import get_model_class

STACKED = (3, 28, 28)
TABLE2 = {"g_layers": 4, "d_layers": 4, "kernel": 5, "g_width": 32, "d_width": 64}   # the papers' DCGAN


def nets(name: str, shape=STACKED, **overrides) -> nn.ModuleDict:
    return genzoo.get_model(name, **overrides).build(shape, 1)


def weights(net: nn.Module) -> list[tuple[int, ...]]:
    """The weight shapes of the linear and (transposed) convolution layers, in order."""
    return [tuple(m.weight.shape) for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]


def convs(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def map_sides(net: nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    """The (channels, side) of each (transposed) convolution's output for input ``x``."""
    out = []
    hooks = [m.register_forward_hook(lambda m, i, o: out.append((o.shape[1], o.shape[2]))) for m in convs(net)]
    net.eval()
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return out


def filters_from_image(d: nn.Module) -> list[int]:
    """D's hidden filters from the image inward (its stride-2 convolutions)."""
    return [m.out_channels for m in convs(d) if m.stride == (2, 2)]


def g_filters_from_image(g: nn.Module) -> list[int]:
    """G's hidden filters from the image inward (the channels each upsampling hands on)."""
    hidden = [m.out_channels for m in convs(g)][::-1]
    return [c for c in hidden if c != STACKED[0]]


def test_genzoo_dcgan_keeps_its_own_networks_by_default():
    """The new layout fields default to genzoo's DCGAN: project -> 7x7x4w -> 14x14x2w -> 28x28,
    D 4x4, 4x4, 3x3 stride-2 convolutions to 14, 7, 4 and a 4x4 one to the logit."""
    g, d = nets("dcgan", shape=(1, 28, 28)).values()
    assert weights(g) == [(256 * 7 * 7, 100), (256, 128, 4, 4), (128, 1, 4, 4)]
    assert weights(d) == [(64, 1, 4, 4), (128, 64, 4, 4), (256, 128, 3, 3), (1, 256, 4, 4)]
    assert map_sides(g, torch.randn(2, 100)) == [(128, 14), (1, 28)]
    assert map_sides(d, torch.randn(2, 1, 28, 28)) == [(64, 14), (128, 7), (256, 4), (1, 1)]
    c = genzoo.get_model("dcgan").config
    assert (c.g_layers, c.d_layers, c.kernel, c.g_out_conv) == (None, None, 0, False)   # depths from the side


def test_table2_networks_are_the_papers_dcgan():
    """VEEGAN's / PacGAN's Stacked-MNIST DCGAN (carpedm20's DCGAN-tensorflow at 28x28): G z(100) ->
    linear 2x2x512 -> 5x5 stride-2 transposed convs to 4x4x256, 7x7x128, 14x14x64, 28x28x3; D 5x5
    stride-2 convs to 14x14x64, 7x7x128, 4x4x256, 2x2x512 and a linear 2048 -> 1."""
    g, d = nets("dcgan", **TABLE2).values()
    assert weights(g) == [(2 * 2 * 512, 100), (512, 256, 5, 5), (256, 128, 5, 5), (128, 64, 5, 5), (64, 3, 5, 5)]
    assert map_sides(g, torch.randn(2, 100)) == [(256, 4), (128, 7), (64, 14), (3, 28)]
    assert weights(d) == [(64, 3, 5, 5), (128, 64, 5, 5), (256, 128, 5, 5), (512, 256, 5, 5), (1, 512, 2, 2)]
    assert map_sides(d, torch.randn(2, *STACKED)) == [(64, 14), (128, 7), (256, 4), (512, 2), (1, 1)]
    assert all(m.stride == (2, 2) for m in convs(g)) and all(m.stride == (2, 2) for m in convs(d)[:-1])
    # the weights of the papers' layers (their biases and batch norms aside): 4.51M in G, 4.31M in D
    n_g = 100 * 2048 + 25 * (512 * 256 + 256 * 128 + 128 * 64 + 64 * 3)
    n_d = 25 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512) + 2048
    assert sum(torch.Size(s).numel() for s in weights(g)) == n_g == 4_510_400
    assert sum(torch.Size(s).numel() for s in weights(d)) == n_d == 4_307_648
    # PacDCGAN2: the same D judging pairs stacked along the channels
    assert weights(nets("pacdcgan2", **TABLE2)["D"])[0] == (64, 6, 5, 5)


def test_table3_networks_have_a_discriminator_a_quarter_of_the_generator():
    """Metz et al.'s networks as PacGAN's D=0.25G runs them: G z(256) -> 4x4x64 -> 3x3 transposed
    convs to 7x7x32, 14x14x16, 28x28x8 -> 3x3 conv to the image; D 3x3 stride-2 convs with 2, 4, 8
    filters (a quarter of G's 8, 16, 32, layer for layer from the image) and a linear 128 -> 1."""
    g, d = nets("dcgan-smalld").values()
    assert weights(g) == [(4 * 4 * 64, 256), (64, 32, 3, 3), (32, 16, 3, 3), (16, 8, 3, 3), (3, 8, 3, 3)]
    assert map_sides(g, torch.randn(2, 256)) == [(32, 7), (16, 14), (8, 28), (3, 28)]
    assert weights(d) == [(2, 3, 3, 3), (4, 2, 3, 3), (8, 4, 3, 3), (1, 8, 4, 4)]
    assert map_sides(d, torch.randn(2, *STACKED)) == [(2, 14), (4, 7), (8, 4), (1, 1)]
    assert g_filters_from_image(g) == [8, 16, 32]                                        # then the 4x4x64 projection
    assert [4 * f for f in filters_from_image(d)] == g_filters_from_image(g)         # D = G / 4
    half = nets("dcgan-smalld", d_width=4)["D"]                                          # their D=0.5G
    assert filters_from_image(half) == [4, 8, 16] and weights(half)[-1] == (1, 16, 4, 4)
    assert [2 * f for f in filters_from_image(half)] == g_filters_from_image(g)
    c = genzoo.get_model("dcgan-smalld").config
    assert (c.latent_dim, c.batch_size, c.lr_g, c.lr_d, c.beta1, c.pack) == (256, 128, 1e-4, 2e-4, 0.5, 1)
    # the packed one: pairs, 128 of them a step (as PacGAN's D sees 128 packs), the rest the same
    p = genzoo.get_model("pacdcgan2-smalld").config
    assert (p.pack, p.batch_size // p.pack) == (2, c.batch_size)
    assert {**dataclasses.asdict(p), "pack": 1, "batch_size": c.batch_size} == dataclasses.asdict(c)
    assert weights(nets("pacdcgan2-smalld")["D"])[0] == (2, 6, 3, 3)


def test_the_table3_variants_declare_what_the_packing_claim_compares():
    """pacdcgan2-smalld is dcgan-smalld with packing (the claim's pair); dcgan-smalld modifies
    dcgan's networks but applies no remedy, so no claim compares it with dcgan."""
    pac, small = get_model_class("pacdcgan2-smalld"), get_model_class("dcgan-smalld")
    assert (pac.variant_of, pac.remedy) == ("dcgan-smalld", "pack") and issubclass(pac, small)
    assert (small.variant_of, small.remedy) == ("dcgan", "") and issubclass(small, get_model_class("dcgan"))
    assert small.published_names == () and pac.published_names == ()      # not Table 2's DCGAN / PacDCGAN2


def test_a_kernel_must_be_odd_or_genzoos_layout():
    with pytest.raises(ValueError, match=r"^dcgan: kernel must be 0 .* or odd"):
        genzoo.get_model("dcgan", kernel=4)
    with pytest.raises(ValueError, match=r"^dcgan: g_layers must be"):
        genzoo.get_model("dcgan", g_layers=0)


def _profile(profile: str) -> dict:
    """model -> the model ``profile`` of the stacked benchmark trains (seed 0), unfitted."""
    bench = load_benchmark("modes-stacked")
    return {s.model: genzoo.get_model(s.model, s.preset, **s.overrides) for s in bench.plan(profile, seeds=[0])}


def test_the_quick_profile_trains_the_papers_networks():
    """Table 2's DCGAN and PacDCGAN2 at a quarter of the papers' widths, as many steps each and
    64 pairs a step; GAN and WGAN as before; ProGAN and StyleGAN (issue #26) at width 8 and batch 64
    for as many steps as DCGAN is scored after on the way. Table 3's pair is left to the paper profile."""
    models = _profile("quick")
    assert set(models) == {"dcgan", "pacdcgan2", "gan", "wgan", "progan", "stylegan"}
    quick = {name: m.config for name, m in models.items()}
    for name in ("dcgan", "pacdcgan2"):
        c = quick[name]
        g, d = models[name].build(STACKED, 1).values()
        assert (c.g_layers, c.d_layers, c.kernel, c.latent_dim) == (4, 4, 5, 100)
        assert filters_from_image(d) == [f // 4 for f in (64, 128, 256, 512)]
        assert [m.out_channels for m in convs(g)] == [256 // 4, 128 // 4, 64 // 4, 3]
        assert weights(d)[0] == (16, 3 * c.pack, 5, 5)
    assert quick["pacdcgan2"].batch_size == 2 * quick["dcgan"].batch_size == 128      # 64 pairs a step
    assert quick["pacdcgan2"].pack == 2 and quick["pacdcgan2"].max_steps == quick["dcgan"].max_steps == 1250
    assert get_model_class("pacdcgan2").variant_of == "dcgan"                            # the claim's pair
    assert (quick["wgan"].g_width, quick["wgan"].d_width, quick["wgan"].epochs) == (16, 16, 5)   # x 5/6 (curves-1500 pilot)
    plans = {s.model: s for s in load_benchmark("modes-stacked").plan("quick", seeds=[0])}
    for name in ("progan", "stylegan"):          # compared with DCGAN after the same items (score_at_steps)
        c = quick[name]
        assert (c.g_width, c.d_width, c.batch_size) == (8, 8, quick["dcgan"].batch_size)
        assert plans["dcgan"].settings.score_at_steps == [c.max_steps] == [104]
    assert quick["progan"].ema == 0.0 and quick["stylegan"].ema == 0.999             # the pilot: G / the average


def test_the_paper_profile_trains_the_papers_networks_and_budget():
    models = _profile("paper")
    paper = {name: m.config for name, m in models.items()}
    for name in ("dcgan", "pacdcgan2"):                 # Table 2: their networks, their 100,000 steps
        c = paper[name]
        assert {k: getattr(c, k) for k in TABLE2} == TABLE2 and c.max_steps == 100_000
        assert weights(models[name].build(STACKED, 1)["D"])[0] == (64, 3 * c.pack, 5, 5)
    assert paper["pacdcgan2"].batch_size == 128
    for name in ("dcgan-smalld", "pacdcgan2-smalld"):   # Table 3: the variants as they are, 500,000 steps
        own = dataclasses.asdict(genzoo.get_model(name).config)
        got = dataclasses.asdict(paper[name])
        assert {k: v for k, v in got.items() if k not in ("epochs", "max_steps")} == \
            {k: v for k, v in own.items() if k not in ("epochs", "max_steps")}
        assert paper[name].max_steps == 500_000


@pytest.mark.parametrize("name,overrides", [("dcgan", {**TABLE2, "g_width": 2, "d_width": 4}),
                                            ("pacdcgan2", {**TABLE2, "g_width": 2, "d_width": 4}),
                                            ("dcgan-smalld", {}), ("pacdcgan2-smalld", {"batch_size": 16})])
def test_a_tiny_fit_samples_stacked_images_and_reloads(name, overrides, tmp_path):
    data = bars(64, channels=3)
    over = {"max_steps": 3, "batch_size": 8, **overrides}
    m = genzoo.get_model(name, **over).fit(data, seed=0, device="cpu")
    assert len(m.history_) == 3 and all(torch.isfinite(torch.tensor(list(r.values()))).all() for r in m.history_)
    x = m.sample(5, seed=1)
    assert x.shape == (5, *STACKED) and 0 <= x.min() and x.max() <= 1
    m.save_pretrained(tmp_path / name)
    again = genzoo.load(tmp_path / name)
    assert dataclasses.asdict(again.config) == dataclasses.asdict(m.config)
    assert torch.equal(again.sample(5, seed=1), x)
