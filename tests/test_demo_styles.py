"""The demo page's controls for what a model declares it can draw (genzoo/demo/core.py): StyleGAN's
truncation slider and style-mixing grid, ProGAN's samples at each side it grew through; and the
training-curve figure's phase boundaries of a scheduled model (genzoo/report/figures.py)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import genzoo
from genzoo.demo import core
from genzoo.errors import UserError
from genzoo.report.figures import phase_starts


@pytest.fixture(scope="module")
def stylegan(fashion_small):
    return genzoo.get_model("stylegan", "tiny", max_steps=20).fit(fashion_small, seed=0, device="cpu")


@pytest.fixture(scope="module")
def progan(fashion_small):
    return genzoo.get_model("progan", "tiny", max_steps=20).fit(fashion_small, seed=0, device="cpu")


@pytest.fixture(scope="module")
def dcgan(fashion_small):
    return genzoo.get_model("dcgan", "tiny", max_steps=2).fit(fashion_small, seed=0, device="cpu")


def test_the_controls_follow_what_each_model_declares(stylegan, progan, dcgan):
    assert core.can_truncate(stylegan) and core.can_mix(stylegan) and core.grown_sides(stylegan) == []
    assert not core.can_truncate(progan) and not core.can_mix(progan) and core.grown_sides(progan) == [7, 14, 28]
    assert not core.can_truncate(dcgan) and not core.can_mix(dcgan) and core.grown_sides(dcgan) == []


def test_the_truncation_slider_sets_psi(stylegan, dcgan):
    at_0, _ = core.samples(stylegan, 3, psi=0)
    assert torch.equal(at_0, at_0[:1].expand_as(at_0))                 # psi 0: every sample the average style
    full, _ = core.samples(stylegan, 3, psi=1)
    assert torch.equal(full, stylegan.sample(core.IMAGE_SAMPLES, seed=3)) and full.std(0).mean() > 0
    half, _ = core.samples(stylegan, 3, psi=0.5)
    assert torch.equal(half, stylegan.sample(core.IMAGE_SAMPLES, seed=3, truncation=0.5))
    assert torch.equal(core.samples(dcgan, 3, psi=0.5)[0], dcgan.sample(core.IMAGE_SAMPLES, seed=3))   # no trick: ignored
    for bad in (-0.1, 1.5, "x", float("nan")):
        with pytest.raises(UserError, match="truncation must be a number from 0 to 1"):
            core.samples(stylegan, 3, psi=bad)


def test_the_style_mixing_grid_is_the_papers_figure(stylegan):
    x, columns = core.mixing_grid(stylegan, "1, 2, 3", "4 5")
    assert columns == 3 and x.shape == (3 * 4, 1, 28, 28)
    grid = x.view(4, 3, 1, 28, 28)
    assert torch.equal(grid[0, 0], torch.ones(1, 28, 28))             # the blank corner
    for j, s in enumerate((4, 5)):                                   # the top row: the column seeds' own samples
        assert torch.equal(grid[0, j + 1], stylegan.sample(1, seed=s)[0])
    for i, s in enumerate((1, 2, 3)):                                # the left column: the row seeds'
        assert torch.equal(grid[i + 1, 0], stylegan.sample(1, seed=s)[0])
    assert torch.equal(grid[1:, 1:], stylegan.style_mixing_grid([1, 2, 3], [4, 5]))
    assert core.mixing_picture(stylegan, "1", "2").shape[2] == 3
    for bad in ("", "1, x", "1 2 3 4 5 6 7 8 9"):
        with pytest.raises(UserError, match="row seeds|must be a whole number"):
            core.mixing_grid(stylegan, bad, "1")


def test_the_growth_grid_draws_each_side_it_grew_through(progan, dcgan):
    x, columns = core.growth_grid(progan, 7)
    assert columns == core.GRID_COLUMNS and x.shape == (3 * core.GRID_COLUMNS, 1, 28, 28)
    rows = x.view(3, core.GRID_COLUMNS, 1, 28, 28)
    assert torch.equal(rows[2], progan.sample(core.GRID_COLUMNS, seed=7))          # the data's side, as it is
    small = progan.sample(core.GRID_COLUMNS, seed=7, resolution=7)
    assert small.shape[-1] == 7
    assert torch.equal(rows[0], small.repeat_interleave(4, -1).repeat_interleave(4, -2))   # 7 -> 28, pixel for pixel
    with pytest.raises(UserError, match="was not grown"):
        core.growth_grid(dcgan, 7)
    with pytest.raises(UserError, match="does not mix styles"):
        core.mixing_grid(progan, "1", "2")


def test_the_page_is_built_with_a_stylegan_and_a_progan(stylegan, progan, tmp_path):
    pytest.importorskip("gradio", reason="gradio is not installed (pip install 'genzoo[demo]')")
    from genzoo.demo import app

    stylegan.save_pretrained(tmp_path / "stylegan", sampler_only=True)
    progan.save_pretrained(tmp_path / "progan", sampler_only=True)
    found = core.discover([tmp_path])
    assert [m.label for m in found.models] == ["progan", "stylegan"]
    models = app.Models(found)
    _, back = models.get("stylegan")
    assert core.can_mix(back) and torch.equal(core.mixing_grid(back, "1", "2")[0], core.mixing_grid(stylegan, "1", "2")[0])
    _, back = models.get("progan")
    assert torch.equal(core.growth_grid(back, 1)[0], core.growth_grid(progan, 1)[0])
    assert app.build(found) is not None


def test_the_training_curves_mark_where_each_phase_begins():
    h = pd.DataFrame({"step": range(1, 9), "phase": [0, 0, 1, 1, 2, 2, 2, 2],
                      "resolution": [7, 7, 14, 14, 14, 14, 14, 14],
                      "alpha": [1, 1, 0.0, 0.5, 1, 1, 1, 1], "loss_d": range(8)}).set_index("step")
    assert phase_starts(h) == [(3, "fade in 14"), (5, "stabilize 14")]
    assert phase_starts(h.drop(columns=["phase"])) == []
