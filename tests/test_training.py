"""The shared training loop: values read back in blocks, with the same history, divergence and
callbacks as reading every step."""

from __future__ import annotations

import pytest
import torch

import genzoo


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


@pytest.mark.parametrize("name,kind", [("gan", "points"), ("wgan", "points"), ("dcgan", "images"), ("vae", "images"),
                                       ("cgan", "images")])
def test_packed_seeds_train_as_each_seed_alone(name, kind, points, images):
    """fit_seeds: each seed's 20 steps match fit(seed=s), whichever seeds share the process
    (batch norm's running statistics per seed included: dcgan, cgan), and the returned models are
    normal models that sample as the separately fitted ones do."""
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
    cases = [(genzoo.get_model("gan", "tiny"), images, "dropout"),                      # D's dropout on images
             (genzoo.get_model("gan", "tiny", replay=0.5), points, "experience replay"),
             (genzoo.get_model("wgan-gp", "tiny"), points, "differentiates inside the step"),
             (genzoo.get_model("gan", "tiny"), points, "a seed is given twice"),
             (genzoo.get_model("dcgan", "tiny"), points, "fits image data only")]
    for model, data, why in cases:
        seeds = [1, 1] if "twice" in why else [0, 1]
        with pytest.raises(ValueError, match=why):
            genzoo.fit_seeds(model, data, seeds=seeds)
    with pytest.raises(ValueError, match="non-empty list"):
        genzoo.fit_seeds(genzoo.get_model("gan", "tiny"), points, seeds=[])
