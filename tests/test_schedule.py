"""Training schedules (genzoo/training/schedule.py): phases by images shown that a model declares
(ProGAN's growing), scaled to the fit's budget, read by the model from the step context, followed
by fit and by fit_seeds, and logged with the other values (phase, resolution, alpha per step)."""

from __future__ import annotations

import pytest
import torch

import genzoo
from genzoo.training.schedule import Phase, Schedule, fit_schedule, reset_optimizers
from genzoo.training.step import StepContext

GROWTH = Schedule((Phase(40, 7, name="stabilize 7"), Phase(40, 14, fade=True, reset_optimizers=True),
                   Phase(40, 14, reset_optimizers=True), Phase(40, 28, fade=True), Phase(80, 28)))


def test_phases_and_alpha_are_as_declared():
    assert GROWTH.total == 240 and GROWTH.boundaries() == [40, 80, 120, 160]
    at = {n: GROWTH.at(n) for n in (0, 39, 40, 50, 60, 79, 80, 119, 120, 130, 159, 160, 239, 500)}
    assert [at[n].phase for n in at] == [0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4]
    assert [at[n].resolution for n in (0, 39, 40, 119, 120, 239)] == [7, 7, 14, 14, 28, 28]
    # a fade raises alpha from 0 at its first image, linearly; a stable phase has alpha 1
    assert [at[n].alpha for n in (40, 50, 60, 79)] == [0.0, 0.25, 0.5, 0.975]
    assert [at[n].alpha for n in (120, 130, 159)] == [0.0, 0.25, 0.975]
    assert all(at[n].alpha == 1.0 for n in (0, 39, 80, 119, 160, 239, 500))
    assert at[50].logs() == {"phase": 1, "resolution": 14, "alpha": 0.25}
    assert at[0].current.name == "stabilize 7"


def test_a_schedule_is_scaled_to_the_budget_keeping_its_shares():
    assert GROWTH.scaled(240) == GROWTH                                    # declared for this budget
    half = GROWTH.scaled(120)
    assert half.boundaries() == [20, 40, 60, 80] and half.total == 120
    assert half.at(30).alpha == 0.5 and half.at(30).phase == 1
    with pytest.raises(ValueError, match="one Phase or more"):
        Schedule(())
    with pytest.raises(ValueError, match="finite number >= 0"):
        Phase(-1)


def test_the_step_context_enters_each_step_at_its_progress():
    """start_step reads the images drawn so far; it says when a phase that resets the optimizers
    begins (not at the first step: the optimizers are fresh then)."""
    ctx = StepContext(torch.zeros(1000, 2), torch.zeros(1000, dtype=torch.long), 10, 0, torch.device("cpu"),
                      schedule=GROWTH)
    seen, resets = [], []
    for step in range(1, 25):
        if ctx.start_step(step):
            resets.append(step)
        seen.append((ctx.progress.phase, ctx.progress.alpha, ctx.progress.images))
        ctx.next_batch()
    assert seen[:5] == [(0, 1.0, 0), (0, 1.0, 10), (0, 1.0, 20), (0, 1.0, 30), (1, 0.0, 40)]
    assert resets == [5, 9], "phases 1 and 2 reset, phase 3 (and the first) do not"
    assert ctx.step == 24
    plain = StepContext(torch.zeros(10, 2), torch.zeros(10, dtype=torch.long), 5, 0, torch.device("cpu"))
    assert plain.start_step(3) is False and plain.progress is None and plain.step == 3


def test_reset_optimizers_forgets_adams_state():
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=0.1)
    p.sum().backward()
    opt.step()
    assert opt.state[p]["step"] == 1
    reset_optimizers({"o": opt})
    assert len(opt.state) == 0
    opt.step()                                              # starts again from its first step
    assert opt.state[p]["step"] == 1


def test_fit_follows_the_schedule_and_logs_it_every_step(fashion_small):
    """ProGAN at batch 16 with its phases declared for exactly the fit's 400 images (64 per
    growing phase): the boundaries fall at the declared images, i.e. after 4 steps each, and the
    history holds phase, resolution and alpha at every step, whatever the log interval."""
    runs = [genzoo.get_model("progan", "tiny", max_steps=25, phase_kimg=0.064, total_kimg=0.4).fit(
        fashion_small, seed=0, device="cpu", log_interval=k) for k in (1, 50)]
    assert runs[0].history_ == runs[1].history_
    h = runs[0].history_
    assert list(h[0])[:5] == ["step", "epoch", "phase", "resolution", "alpha"]
    assert [r["phase"] for r in h] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 9
    assert [r["resolution"] for r in h] == [7] * 4 + [14] * 8 + [28] * 13
    assert [r["alpha"] for r in h[4:8]] == [0.0, 0.25, 0.5, 0.75] == [r["alpha"] for r in h[12:16]]
    assert all(r["alpha"] == 1.0 for r in h[:4] + h[8:12] + h[16:])
    assert fit_schedule(runs[0], 25, len(fashion_small)) == runs[0].schedule()     # declared for this budget


def test_the_schedule_scales_to_an_epochs_budget(fashion_small):
    """epochs=0.5 on 512 images at batch 16 is 16 steps (256 images); the tiny preset declares 1,000
    images per growing phase of 10,000: a tenth each, 25.6 images, so a phase boundary every 1.6 steps."""
    m = genzoo.get_model("progan", "tiny", max_steps=None, epochs=0.5).fit(fashion_small, seed=0, device="cpu")
    assert len(m.history_) == 16
    shown = [(r["step"] - 1) * 16 for r in m.history_]
    sched = fit_schedule(m, 16, len(fashion_small))
    assert sched.total == 256 and sched.boundaries() == pytest.approx([25.6, 51.2, 76.8, 102.4])
    assert [r["phase"] for r in m.history_] == [sum(s >= b for b in sched.boundaries()) for s in shown]


def test_a_model_without_a_schedule_logs_as_before(fashion_small):
    m = genzoo.get_model("dcgan", "tiny", max_steps=3).fit(fashion_small, seed=0, device="cpu")
    assert list(m.history_[0]) == ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake"]
    assert m.schedule() is None


def _close(a: list[dict], b: list[dict], rel: float = 1e-3, floor: float = 1e-5) -> bool:
    return len(a) == len(b) and all(
        ra.keys() == rb.keys() and all(abs(ra[k] - rb[k]) <= rel * max(abs(ra[k]), abs(rb[k])) + floor for k in ra)
        for ra, rb in zip(a, b))


def test_fit_seeds_follows_the_schedule(fashion_small):
    """Without the gradient penalty ProGAN packs: each seed grows through the same phases as its
    own fit, its values within 1e-4 of it through every phase change (the optimizers reset at
    the same steps), within 1e-2 after: Adam with beta1 = 0 just after a reset steps each weight
    by about lr * sign(gradient), which amplifies the different rounding of the vmapped kernels."""
    kw = dict(max_steps=14, phase_kimg=0.032, total_kimg=0.224, gp_lambda=0.0)
    packed = genzoo.fit_seeds(genzoo.get_model("progan", "tiny", **kw), fashion_small, seeds=[3, 0], device="cpu")
    for seed, m in zip([3, 0], packed):
        alone = genzoo.get_model("progan", "tiny", **kw).fit(fashion_small, seed=seed, device="cpu")
        assert [r["phase"] for r in m.history_] == [r["phase"] for r in alone.history_] == [0, 0, 1, 1, 2, 2, 3, 3] + [4] * 6
        assert [r["alpha"] for r in m.history_] == [r["alpha"] for r in alone.history_]
        assert _close(m.history_[:9], alone.history_[:9], rel=1e-4), seed
        assert _close(m.history_, alone.history_, rel=1e-2, floor=1e-3), seed
        assert (m.sample(4, seed=1, resolution=14) - alone.sample(4, seed=1, resolution=14)).abs().mean() < 1e-3


def test_fit_seeds_refuses_the_penalised_models_in_one_line(fashion_small):
    for name, why in (("progan", "progan's gradient penalty"), ("stylegan", "stylegan's R1 penalty")):
        with pytest.raises(ValueError, match=rf"^fit_seeds: {why} .* differentiates inside the step, which vmap "
                                             rf"cannot do \(.*=0 packs\): train its seeds with fit$"):
            genzoo.fit_seeds(genzoo.get_model(name, "tiny"), fashion_small, seeds=[0, 1], device="cpu")
