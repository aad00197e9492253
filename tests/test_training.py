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

    proc = subprocess.run([sys.executable, "-m", "genzoo", "speed", "--models", "gan,wgan-gp", "--steps", "2",
                           "--warmup", "1", "--repeats", "1", "--device", "cpu", "--preset", "tiny", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((tmp_path / "cpu.csv").open()))
    assert [r["model"] for r in rows] == ["gan", "wgan-gp"]
    assert all(float(r["plain_steps_per_s"]) > 0 and float(r["genzoo_images_per_s"]) > 0 for r in rows)
    assert "| wgan-gp |" in (tmp_path / "cpu.md").read_text()
    bad = subprocess.run([sys.executable, "-m", "genzoo", "speed", "--models", "bigan"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model" in bad.stderr and "Traceback" not in bad.stderr
