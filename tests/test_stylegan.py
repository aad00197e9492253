"""StyleGAN (genzoo/models/stylegan.py): the mapping network at 0.01 of the learning rate, AdaIN,
noise scaled per feature map, style mixing, R1, the average w and the truncation trick, the
style-mixing grid, a tiny fit on Fashion-MNIST and one on 32x32 generated images, save / load."""

from __future__ import annotations

import math

import pytest
import torch

import genzoo
from genzoo.data import Dataset
from genzoo.models._karras import EqualLinear
from genzoo.models.stylegan import StyleLayer, instance_norm
from genzoo.training.step import StepContext


@pytest.fixture(scope="module")
def stylegan(fashion_small):
    return genzoo.get_model("stylegan", "tiny", max_steps=60).fit(fashion_small, seed=0, device="cpu")


def spread(x: torch.Tensor) -> float:
    """The mean over pixels of the standard deviation across samples."""
    return float(x.std(0).mean())


def test_a_tiny_stylegan_fits_fashion_and_samples(stylegan):
    h = stylegan.history_
    assert len(h) == 60 and list(h[0]) == ["step", "epoch", "loss_d", "loss_g", "penalty", "d_real", "d_fake"]
    assert all(math.isfinite(r[k]) for r in h for k in r) and all(r["penalty"] > 0 for r in h)
    x = stylegan.sample(16, seed=1)
    assert x.shape == (16, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert stylegan.num_layers == 6 and stylegan.coarse_layers == 4 and stylegan.sampling_nets() == ("G_ema",)
    g = stylegan.nets_["G"]
    assert len(g.mapping.net) == 1 + 2 * 2                              # pixel norm, then 2 dense layers (tiny)
    assert all(float(layer.noise_strength.detach().abs().max()) > 0 for layer in g.synthesis.layers)   # learned from 0
    # the average w is tracked, and the generator average carries G's
    assert float(g.mapping.w_avg.abs().max()) > 0
    assert torch.equal(stylegan.nets_["G_ema"].mapping.w_avg, g.mapping.w_avg)
    # the default noise is fixed: a seed's sample is the decoding of its codes (the demo's interpolation)
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(stylegan.decode(z), stylegan.sample(4, seed=1))
    assert torch.equal(stylegan.decode(z, truncation=0.5), stylegan.sample(4, seed=1, truncation=0.5))


def test_a_truncation_of_0_gives_samples_that_differ_only_by_their_noise(stylegan):
    fixed = stylegan.sample(8, seed=1, truncation=0.0)
    assert torch.equal(fixed, fixed[:1].expand_as(fixed))                # every w is the average, noise fixed
    assert torch.equal(stylegan.sample(8, seed=2, truncation=0.0), fixed)
    noisy = stylegan.sample(8, seed=1, truncation=0.0, noise="random")
    assert spread(noisy) > 0                                             # the noise inputs alone
    assert torch.equal(stylegan.sample(8, seed=1, truncation=0.0, noise="random"), noisy)   # drawn from the seed
    assert spread(stylegan.sample(8, seed=1, truncation=0.0, noise="none")) == 0


def test_decreasing_truncation_lowers_the_spread_of_samples(stylegan):
    spreads = [spread(stylegan.sample(200, seed=5, truncation=psi)) for psi in (1.0, 0.75, 0.5, 0.25, 0.0)]
    assert all(a > b for a, b in zip(spreads, spreads[1:])) and spreads[-1] == 0, spreads
    with pytest.raises(ValueError, match=r"^stylegan: truncation must be a number from 0 to 1"):
        stylegan.sample(2, truncation=1.5)
    with pytest.raises(ValueError, match=r"^stylegan: noise must be 'const' or 'random' or 'none', got 'fixed'"):
        stylegan.sample(2, noise="fixed")


def test_a_style_mixing_grid_holds_in_each_row_the_coarse_structure_of_its_rows_seed(stylegan):
    """The paper's figure: the row seed's coarse styles (7x7 and 14x14: its 4x4 and 8x8) set the
    images' 7x7 structure. At that scale a row's images are on average nearest to their row seed's
    image among the rows' seeds, and the grid's images nearer to their row seed's than to their
    column seed's (which gives only the fine styles)."""
    rows, cols = [11, 12, 13, 14], [21, 22, 23, 24, 25]
    grid = stylegan.style_mixing_grid(rows, cols)
    assert grid.shape == (4, 5, 1, 28, 28) and stylegan.coarse_layers == 4
    heads = torch.cat([stylegan.sample(1, seed=s) for s in rows])            # each row's seed alone
    col_heads = torch.cat([stylegan.sample(1, seed=s) for s in cols])
    assert torch.allclose(grid[0, 1], stylegan.sample(1, seed=rows[0], mix_seed=cols[1])[0], atol=1e-5)

    def coarse(x):                                                          # the 7x7 structure
        return torch.nn.functional.avg_pool2d(x, 4).flatten(1)

    for i in range(len(rows)):
        d = torch.cdist(coarse(grid[i]), coarse(heads)).mean(0)              # (row seeds,): mean over the row
        assert d.argmin() == i, (i, d)
    to_row = (coarse(grid.flatten(0, 1)).view(4, 5, -1) - coarse(heads)[:, None]).norm(dim=-1)
    to_col = (coarse(grid.flatten(0, 1)).view(4, 5, -1) - coarse(col_heads)[None]).norm(dim=-1)
    assert to_row.mean() < to_col.mean(), (to_row, to_col)
    # the columns' seeds set the fine styles: within a row the images differ
    assert all(spread(grid[i]) > 0 for i in range(len(rows)))
    # with every layer from the row's seed but the last, the image is nearly the row seed's
    late = stylegan.style_mixing_grid(rows, cols, crossover=stylegan.num_layers - 1)
    assert (late - heads[:, None]).abs().mean() < (grid - heads[:, None]).abs().mean()
    with pytest.raises(ValueError, match=r"^stylegan: crossover must be a layer from 1 to 5"):
        stylegan.style_mixing_grid(rows, cols, crossover=6)
    with pytest.raises(ValueError, match="give mix_seed too"):
        stylegan.sample(2, crossover=2)


def test_style_mixing_switches_the_styles_of_9_items_in_10_at_a_random_layer(stylegan, fashion_small):
    """The training generator's styles (StyleGAN._train_styles): each item takes w1 up to a crossover
    layer drawn in 1..layers-1 and w2 from there, with probability 0.9."""
    ctx = StepContext(fashion_small.x, fashion_small.y, 16, 0, torch.device("cpu"))
    with torch.no_grad():
        ws = stylegan._train_styles(ctx, 4000)                             # (n, layers, w_dim)
    switch = (ws[:, 1:] != ws[:, :-1]).any(-1)                               # (n, layers - 1): w changes there
    assert (switch.sum(1) <= 1).all()                                        # one crossover at most
    assert abs(switch.any(1).float().mean().item() - 0.9) < 0.02
    at = switch.float().argmax(1)[switch.any(1)] + 1                         # the crossover layers
    counts = torch.bincount(at, minlength=6)[1:]
    assert (counts > 0.15 * len(at)).all(), counts                           # each of the 5 about equally often
    off = genzoo.get_model("stylegan", "tiny", style_mixing=0.0)
    off.setup(fashion_small.shape, 10, 0, torch.device("cpu"))
    with torch.no_grad():
        ws = off._train_styles(ctx, 100)
    assert torch.equal(ws, ws[:, :1].expand_as(ws))


def test_the_mapping_network_learns_at_a_hundredth_of_the_rate():
    """One Adam step on the same loss: a dense layer with lr_mul 0.01 (the mapping's) moves its
    effective weights by 0.01 of what a plain equalized layer moves them; both start equal."""
    torch.manual_seed(0)
    fast = EqualLinear(16, 16)
    torch.manual_seed(0)
    slow = EqualLinear(16, 16, lr_mul=0.01)
    assert torch.allclose(fast.effective_weight(), slow.effective_weight(), atol=1e-6)
    x = torch.randn(32, 16)
    moved = []
    for layer in (fast, slow):
        before = layer.effective_weight().detach().clone()
        opt = torch.optim.Adam(layer.parameters(), lr=1e-3, betas=(0.0, 0.99))
        layer(x).pow(2).mean().backward()
        opt.step()
        moved.append((layer.effective_weight().detach() - before).abs().mean().item())
    assert moved[1] / moved[0] == pytest.approx(0.01, rel=1e-2)
    c = genzoo.get_model("stylegan").config
    assert (c.mapping_layers, c.mapping_lr_mul, c.style_mixing, c.r1_gamma, c.ema) == (8, 0.01, 0.9, 10.0, 0.999)


def test_adain_sets_each_maps_mean_and_scale_from_the_style_and_noise_is_scaled_per_map():
    torch.manual_seed(0)
    layer = StyleLayer(4, 8)
    h, w = torch.randn(2, 4, 6, 6), torch.randn(2, 8)
    zero, noise = torch.zeros(2, 1, 6, 6), torch.randn(2, 1, 6, 6)
    with torch.no_grad():
        out = layer(h, w, zero)
        scale, shift = layer.style(w).chunk(2, 1)                           # (2, 4) each
        assert torch.allclose(out.mean((2, 3)), shift, atol=1e-5)
        assert torch.allclose((out - shift[..., None, None]).pow(2).mean((2, 3)).sqrt(), (1 + scale).abs(), atol=1e-4)
        assert torch.equal(layer(h, w, noise), out)                          # strengths start at 0
        layer.noise_strength.copy_(torch.tensor([0.0, 1.0, 0.0, 2.0]))
        changed = (layer(h, w, noise) - out).abs().amax((0, 2, 3))
        assert changed[0] == 0 and changed[2] == 0 and changed[1] > 0 and changed[3] > 0
    x = torch.randn(3, 2, 5, 5) * 4 + 1
    assert torch.allclose(instance_norm(x).mean((2, 3)), torch.zeros(3, 2), atol=1e-5)


def test_r1_is_lazy_every_k_steps_and_packs_when_off(fashion_small):
    m = genzoo.get_model("stylegan", "tiny", max_steps=6, r1_interval=3).fit(fashion_small, seed=0, device="cpu")
    assert [r["penalty"] > 0 for r in m.history_] == [False, False, True, False, False, True]
    kw = dict(max_steps=6, r1_gamma=0.0)
    packed = genzoo.fit_seeds(genzoo.get_model("stylegan", "tiny", **kw), fashion_small, seeds=[0, 1], device="cpu")
    alone = genzoo.get_model("stylegan", "tiny", **kw).fit(fashion_small, seed=1, device="cpu")
    assert "penalty" not in alone.history_[0]
    # Adam with beta1 = 0 steps each weight by about lr * sign(gradient) at first, which amplifies the
    # different rounding of the vmapped kernels: the same draws give the same first steps, then drift
    for step, (a, b) in enumerate(zip(packed[1].history_, alone.history_), 1):
        rel = 1e-4 if step <= 2 else 1e-2
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= rel * max(abs(a[k]), abs(b[k])) + 1e-5 for k in a)


def test_save_and_load_sample_exactly_with_truncation_noise_and_mixing(stylegan, tmp_path):
    for sampler_only in (False, True):
        folder = tmp_path / f"m{sampler_only}"
        stylegan.save_pretrained(folder, sampler_only=sampler_only)
        back = genzoo.load(folder)
        for kw in ({}, {"truncation": 0.5}, {"truncation": 0.7, "noise": "random"}, {"mix_seed": 9, "crossover": 3}):
            assert torch.equal(back.sample(6, seed=4, **kw), stylegan.sample(6, seed=4, **kw)), kw
        assert torch.equal(back.style_mixing_grid([1, 2], [3]), stylegan.style_mixing_grid([1, 2], [3]))


def test_stylegan_on_32x32_images():
    g = torch.Generator().manual_seed(0)
    data = Dataset("noise32", torch.randint(0, 256, (64, 3, 32, 32), generator=g, dtype=torch.uint8),
                   torch.zeros(64, dtype=torch.long), 1, ("x",))
    m = genzoo.get_model("stylegan", "tiny", max_steps=3).fit(data, seed=0, device="cpu")
    assert m.num_layers == 8 and m.coarse_layers == 4                    # 4x4 and 8x8: the paper's coarse styles
    assert m.sample(3, seed=0).shape == (3, 3, 32, 32)
    assert m.style_mixing_grid([1], [2, 3]).shape == (1, 2, 3, 32, 32)
