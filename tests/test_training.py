"""The shared training loop: values read back in blocks, with the same history, divergence and
callbacks as reading every step; the same loop for several seeds stacked (fit_seeds)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

import genzoo
from genzoo.models.base import BaseConfig, GenerativeModel, Update


@pytest.fixture(scope="module")
def points():
    return genzoo.data.load("ring", n=600)


@pytest.mark.parametrize("name", ["gan", "wgan-gp", "cgan"])
def test_the_history_does_not_depend_on_how_often_values_are_read(name, points):
    runs = [genzoo.get_model(name, preset="tiny", max_steps=23).fit(points, seed=1, device="cpu", log_interval=k)
            for k in (1, 5, 50)]
    assert [h["step"] for h in runs[0].history_] == list(range(1, 24))
    assert runs[0].history_ == runs[1].history_ == runs[2].history_


def test_divergence_names_its_first_step_whatever_the_block(points):
    errors = []
    for k in (1, 7, 50):
        with pytest.raises(genzoo.DivergenceError) as err:
            genzoo.get_model("wgan", preset="tiny", lr=1e8, max_steps=60).fit(     # diverges at step 25
                points, seed=0, device="cpu", log_interval=k)
        errors.append(err.value)
    assert errors[0].step > 1, "the test needs a divergence after the first step"
    assert len({e.step for e in errors}) == 1 and errors[0].history == errors[1].history == errors[2].history
    assert len(errors[0].history) == errors[0].step - 1


def test_a_callback_sees_the_model_at_the_steps_it_asks_for(points):
    """sync_steps: the loop calls back right after those steps, before training on, so a sample
    drawn there is the model of that step (the W&B sample grids rely on it)."""

    class Peek:
        def __init__(self):
            self.seen = {}

        def sync_steps(self, total):
            return {7, 13}

        def on_step_end(self, model, step, record):
            if step in (7, 13):
                self.seen[step] = (len(model.history_), model.sample(8, seed=0))

    peek = Peek()
    genzoo.get_model("gan", preset="tiny", max_steps=20).fit(points, seed=2, device="cpu", callbacks=[peek],
                                                            log_interval=50)
    for step in (7, 13):
        n, x = peek.seen[step]
        alone = genzoo.get_model("gan", preset="tiny", max_steps=step).fit(points, seed=2, device="cpu")
        assert n == step and torch.equal(x, alone.sample(8, seed=0))


def test_log_interval_must_be_a_positive_int(points):
    with pytest.raises(ValueError, match="log_interval"):
        genzoo.get_model("gan", preset="tiny").fit(points, seed=0, device="cpu", log_interval=0)


def test_genzoo_speed_writes_its_table(tmp_path):
    """The speed benchmark end to end on two tiny fits (its numbers mean nothing here)."""
    import csv
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "genzoo", "speed", "--models", "dcgan,wgan-gp", "--steps", "2",
                           "--warmup", "1", "--repeats", "1", "--device", "cpu", "--preset", "tiny", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((tmp_path / "cpu.csv").open()))
    assert [r["model"] for r in rows] == ["dcgan", "wgan-gp"]
    assert all(float(r["plain_steps_per_s"]) > 0 and float(r["genzoo_images_per_s"]) > 0 for r in rows)
    assert float(rows[0]["packed_images_per_s"]) > 0 and rows[0]["packed_seeds"] == "3"     # fit_seeds, 3 seeds
    assert rows[1]["packed_images_per_s"] == "" and "differentiates inside the step" in rows[1]["packed_note"]
    assert "| wgan-gp |" in (tmp_path / "cpu.md").read_text()
    bad = subprocess.run([sys.executable, "-m", "genzoo", "speed", "--models", "bigan"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------ several seeds in one process

def _close(a: list[dict], b: list[dict], rel: float = 1e-3, floor: float = 1e-5) -> bool:
    """Two histories agree step by step, every logged value within ``rel`` relative (``floor``
    absolute, for values near zero such as a critic's Wasserstein estimate)."""
    return len(a) == len(b) and all(
        ra["step"] == rb["step"] and ra.keys() == rb.keys()
        and all(abs(ra[k] - rb[k]) <= rel * max(abs(ra[k]), abs(rb[k])) + floor for k in ra if k != "step")
        for ra, rb in zip(a, b))


@pytest.fixture(scope="module")
def images():
    return genzoo.data.load("fashion-mnist", split="test").subset(512, seed=0)


@pytest.mark.parametrize("name,kind", [("gan", "points"), ("gan", "images"), ("wgan", "points"), ("dcgan", "images"),
                                       ("vae", "images"), ("cgan", "images")])
def test_packed_seeds_train_as_each_seed_alone(name, kind, points, images):
    """fit_seeds: each seed's 20 steps match fit(seed=s), whichever seeds share the process
    (batch norm's running statistics per seed included: dcgan, cgan; dropout masks per seed: the
    MLP GAN on images), and the returned models are normal models that sample as the separately
    fitted ones do."""
    data = points if kind == "points" else images
    model = genzoo.get_model(name, "tiny", max_steps=20)
    packed = genzoo.fit_seeds(model, data, seeds=[4, 1, 7], device="cpu")
    assert not model.is_fitted                                        # the model passed in is a template
    other = genzoo.fit_seeds(model, data, seeds=[1, 9], device="cpu")[0]
    for seed, m in zip([4, 1, 7], packed):
        alone = genzoo.get_model(name, "tiny", max_steps=20).fit(data, seed=seed, device="cpu")
        assert m.seed_ == seed and m.packed_with_ == (4, 1, 7)
        assert _close(m.history_, alone.history_), (name, seed)
        assert torch.allclose(m.sample(6, seed=2), alone.sample(6, seed=2), atol=5e-3)
    assert _close(other.history_, packed[1].history_)                 # seed 1 beside 4 and 7, or beside 9


def test_packed_seeds_are_reproducible_and_normal_models(points, tmp_path):
    a = genzoo.fit_seeds(genzoo.get_model("lsgan", "tiny", max_steps=12), points, seeds=[0, 2])
    b = genzoo.fit_seeds(genzoo.get_model("lsgan", "tiny", max_steps=12), points, seeds=[0, 2])
    assert [m.history_ for m in a] == [m.history_ for m in b]        # bit for bit
    a[1].save_pretrained(tmp_path / "m")
    assert torch.equal(genzoo.load(tmp_path / "m").sample(5, seed=3), a[1].sample(5, seed=3))
    assert len(a[0].history_) == 12 and a[0].items_seen_ == 12 * a[0].config.batch_size


def test_what_cannot_be_packed_is_refused_with_the_reason(points, images):
    cases = [(genzoo.get_model("gan", "tiny", replay=0.5), points, "experience replay"),
             (genzoo.get_model("wgan-gp", "tiny"), points, "differentiates inside the step"),
             (genzoo.get_model("gan", "tiny"), points, "a seed is given twice"),
             (genzoo.get_model("dcgan", "tiny"), points, "fits image data only")]
    for model, data, why in cases:
        seeds = [1, 1] if "twice" in why else [0, 1]
        with pytest.raises(ValueError, match=why):
            genzoo.fit_seeds(model, data, seeds=seeds)
    with pytest.raises(ValueError, match="non-empty list"):
        genzoo.fit_seeds(genzoo.get_model("gan", "tiny"), points, seeds=[])


def test_only_replay_and_the_gradient_penalty_are_refused(points, images):
    """Every registered model packs on the data it fits (dropout included: the MLP GANs on images),
    but for the declared refusals: replay, and the penalties on D's gradient (WGAN-GP's and
    ProGAN's gradient penalty, StyleGAN's R1)."""
    from genzoo.training.packed import check_packable

    refused = {}
    for name in genzoo.list_models():
        model = genzoo.get_model(name, "tiny")
        for data in (points, images):
            if model.supports(data):
                try:
                    check_packable(model, data)
                except ValueError as exc:
                    refused[name, data.kind] = str(exc)
    assert sorted(refused) == [("gan-replay", "image"), ("gan-replay", "points"), ("progan", "image"),
                               ("stylegan", "image"), ("wgan-gp", "image"), ("wgan-gp", "points")], refused
    assert all(why.startswith("fit_seeds: ") and why.endswith(": train its seeds with fit") for why in refused.values())


@dataclass(frozen=True)
class StepNoiseConfig(BaseConfig):
    latent_dim: int = 2
    max_steps: int | None = 10
    batch_size: int = 16
    lr: float = 0.05


class StepNoise(GenerativeModel):
    """A model whose draws change with the step: 1 to 3 noise draws and a randint bound of
    ``step + 1`` (a schedule, as a fade-in or a mixing probability would read ``ctx.step``)."""

    name = "step-noise"
    Config = StepNoiseConfig
    data_kinds = ("points",)

    def build(self, shape, num_classes):
        return nn.ModuleDict({"f": nn.Linear(shape[0], shape[0])})

    def configure_optimizers(self):
        return {"f": torch.optim.Adam(self.nets_.parameters(), lr=self.config.lr)}

    def updates(self):
        return [Update("f", self.loss)]

    def loss(self, ctx, state):
        x, _ = ctx.next_batch()
        noise = ctx.randn(1 + ctx.step % 3, *x.shape).sum(0)                # (B, D), from 1 to 3 draws
        weight = ctx.randint(ctx.step + 1, len(x)).float() / ctx.step        # (B,), in [0, 1]
        loss = (weight * ((self.nets_["f"](x + noise) - x) ** 2).sum(1)).mean()
        return loss, {"loss": loss, "weight": weight.mean()}

    def generate(self, z, labels):
        return self.nets_["f"](z)


def test_packed_draws_are_each_seeds_draws_at_that_step(points):
    """The draws of a step are made at that step by each seed's own generators, so draws that
    depend on the step (their number, shape, bounds) train packed as alone."""
    packed = genzoo.fit_seeds(StepNoise(), points, seeds=[3, 8, 5], device="cpu", log_interval=4)
    for seed, m in zip([3, 8, 5], packed):
        alone = StepNoise().fit(points, seed=seed, device="cpu")
        assert [h["step"] for h in m.history_] == list(range(1, 11))
        assert _close(m.history_, alone.history_, rel=1e-5, floor=0.0), seed
        for a, b in zip(m.nets_.parameters(), alone.nets_.parameters()):
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)


class _Watch:
    """A callback noting every hook it sees, and the model's samples at the steps it syncs."""

    def __init__(self):
        self.seen = []

    def sync_steps(self, total):
        return {5, 9}

    def on_fit_start(self, model, total):
        self.seen.append(("start", total, len(model.history_)))

    def on_step_end(self, model, step, record):
        assert model.history_[-1] is record
        self.seen.append(("step", step, len(model.history_), record))
        if step in (5, 9):
            self.seen.append(("sample", step, model.sample(6, seed=0)))

    def on_fit_end(self, model):
        self.seen.append(("end", len(model.history_), model.is_fitted))


def test_packed_seeds_get_their_own_callbacks_as_under_fit(points):
    """fit_seeds(callbacks=[per seed]): each seed's callbacks see its model and history as under
    model.fit(callbacks=...): the same hooks at the same steps, the model of that step."""
    model = genzoo.get_model("gan", "tiny", max_steps=12)
    watches = [[_Watch()], [_Watch(), _Watch()]]
    packed = genzoo.fit_seeds(model, points, seeds=[6, 2], device="cpu", callbacks=watches, log_interval=50)
    for seed, m, cbs in zip([6, 2], packed, watches):
        alone = _Watch()
        genzoo.get_model("gan", "tiny", max_steps=12).fit(points, seed=seed, device="cpu", callbacks=[alone])
        for cb in cbs:
            assert [e[:3] if e[0] != "sample" else e[:2] for e in cb.seen] == \
                   [e[:3] if e[0] != "sample" else e[:2] for e in alone.seen]
            for got, want in zip(cb.seen, alone.seen):
                if got[0] == "step":
                    assert _close([got[3]], [want[3]])
                if got[0] == "sample":
                    assert torch.allclose(got[2], want[2], atol=1e-4)
        assert cbs[0].seen[-1] == ("end", 12, True) and m.packed_with_ == (6, 2)
    with pytest.raises(ValueError, match=r"one list of callbacks per seed \(2\)"):
        genzoo.fit_seeds(model, points, seeds=[6, 2], callbacks=[[_Watch()]])


def test_a_packed_fit_diverges_at_the_first_bad_step_of_its_seeds(points):
    def model():
        return genzoo.get_model("wgan", "tiny", lr=1e8, max_steps=60)

    alone = []
    for seed in (0, 6):                                  # diverge at steps 25 and 10 (seed 2 does not)
        with pytest.raises(genzoo.DivergenceError) as err:
            model().fit(points, seed=seed, device="cpu")
        alone.append(err.value)
    assert alone[1].step < alone[0].step, "the test needs the second seed to diverge first"
    with pytest.raises(genzoo.DivergenceError) as err:
        genzoo.fit_seeds(model(), points, seeds=[0, 6, 2], device="cpu", log_interval=7)
    assert err.value.step == alone[1].step and _close(err.value.history, alone[1].history)
