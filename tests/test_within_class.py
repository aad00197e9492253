"""Within-class diversity: the per-class recall and coverage of a conditional model's samples, their
bar (as many real images of the class, scored the same way), and the claim "cGAN collapses within
classes" on records built for it. Samples are real Fashion-MNIST images (copies of one per class, or
other real images of the class) drawn by a small conditional sampler, and a tiny cGAN fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import genzoo.data
from genzoo import metrics as gm
from genzoo.bench import run_benchmark
from genzoo.bench.record import RunRecord
from genzoo.bench.runspec import RunSettings, RunSpec
from genzoo.bench.score import Scoring, per_class_scores
from genzoo.bench.tracking.session import Tracker
from genzoo.report import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE
from genzoo.report.claims import claims_for, claims_markdown, compare
from genzoo.report.records import Run, load_benchmark
from genzoo.report.within_class import class_means

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CLAIM = "cgan-within-class-collapse"
M = 100                                   # samples per class


class RealImages:
    """A conditional sampler of real images of class k: one image copied ``n`` times (a model
    collapsed inside each class), or the class's last ``n`` images (as diverse as the class)."""

    conditional = True

    def __init__(self, data, copies: bool):
        self.data, self.copies = data, copies

    def sample(self, n, labels, seed=None):
        out = torch.empty(n, *self.data.shape)
        for k in labels.unique().tolist():
            where = (labels == k).nonzero().squeeze(1)
            images = genzoo.data.as_float(self.data.of_class(k).x)
            out[where] = images[0] if self.copies else images[-len(where):]
        return out


def scoring(tmp_path, sampler, train, reference, **settings) -> Scoring:
    spec = RunSpec("within", "tiny", "fashion-mnist", "cgan", 0, "tiny", {}, RunSettings(**settings))
    return Scoring(sampler, spec, train, reference, "cpu", tmp_path, Tracker())


# ----------------------------------------------------------------------------- the scores
@pytest.fixture(scope="module")
def scored(fashion_train, fashion_test, tmp_path_factory):
    """per_class_scores of copies and of other real images, M a class, FID, recall and coverage."""
    out = {}
    for copies in (True, False):
        job = scoring(tmp_path_factory.mktemp("score"), RealImages(fashion_train, copies), fashion_train, fashion_test,
                      per_class_samples=M, per_class_metrics=["fid", "recall", "coverage"])
        notes: list[str] = []
        out[copies] = per_class_scores(job, notes), notes, job
    return out


def test_copies_of_one_image_per_class_recall_far_below_the_real_bar(scored):
    per_class, _, _ = scored[True]
    assert list(per_class) == CLASSES
    for name, entry in per_class.items():
        assert entry["accuracy"] == 1.0 or entry["accuracy"] == 0.0      # one image: all or none classified k
        assert entry["recall"] <= 0.02, name                             # a point's ball holds no other point
        assert entry["real"]["recall"] >= 0.6, name                      # the class's own images cover it
        assert entry["coverage"] < entry["real"]["coverage"] - 0.5, name
    assert np.mean([e["coverage"] for e in per_class.values()]) < 0.15


def test_other_real_images_of_the_class_score_as_the_bar(scored):
    per_class, _, _ = scored[False]
    for name, entry in per_class.items():
        assert entry["recall"] >= 0.6 and entry["coverage"] >= 0.8, name
    for metric in ("recall", "coverage"):
        gap = np.mean([e[metric] - e["real"][metric] for e in per_class.values()])
        assert abs(gap) < 0.1, metric


def test_the_bar_is_training_images_of_the_class_against_the_same_reference_items(scored, fashion_train, fashion_test):
    per_class, _, job = scored[True]
    k = 3
    real = fashion_train.of_class(k).subset(M, seed=job.spec.sample_seed).x
    again = gm.score(real, fashion_test.of_class(k), ["recall", "coverage"], n=M, progress=False)
    assert per_class[CLASSES[k]]["real"] == {"recall": again["recall"], "coverage": again["coverage"]}


def test_a_fid_with_too_few_samples_is_one_note_for_the_record_not_one_per_class(scored):
    per_class, notes, _ = scored[True]
    assert all("note" not in e and "fid" not in e and "fid" not in e["real"] for e in per_class.values())
    fid = [n for n in notes if n.startswith("per-class fid left out")]
    assert len(fid) == 1 and "(every class)" in fid[0] and "needs at least 256 samples" in fid[0]
    assert sum("per-class real baseline (" in n for n in notes) == 1


def test_without_per_class_metrics_only_the_accuracy_and_one_note(tmp_path, fashion_train, fashion_test):
    job = scoring(tmp_path, RealImages(fashion_train, True), fashion_train, fashion_test, per_class_samples=50)
    notes: list[str] = []
    per_class = per_class_scores(job, notes)
    assert all(set(e) == {"accuracy"} for e in per_class.values())     # FID (the default) left out, no bar
    assert len(notes) == 1 and notes[0].startswith("per-class fid left out (every class): fid needs at least 256")


def test_a_class_with_too_few_training_images_has_no_bar_and_one_note(tmp_path, fashion_train, fashion_test):
    train = fashion_train.subset(600, seed=0)          # about 60 images a class, fewer than 100 for some
    job = scoring(tmp_path, RealImages(fashion_train, False), train, fashion_test, per_class_samples=M,
                  per_class_metrics=["recall"])
    notes: list[str] = []
    per_class = per_class_scores(job, notes)
    assert all("recall" in e and "real" not in e for e in per_class.values())
    assert notes == [f"per-class real baseline left out (every class): fewer than {M} training images of the class"]


@pytest.mark.slow
def test_a_tiny_cgan_benchmark_records_per_class_recall_coverage_and_the_bar(tmp_path, make_benchmark):
    toml = make_benchmark("tiny-fashion", "fashion-mnist", ["cgan"], train_subset=512, reference_subset=512,
                          n_samples=200, per_class_samples=30, per_class_metrics=["fid", "recall", "coverage"],
                          max_steps=10)
    result = run_benchmark(toml, profile="tiny", out=tmp_path, wandb=False, quiet=True, device="cpu")
    (rec,) = result.records
    assert rec.status == "ok", rec.reason
    assert list(rec.per_class) == CLASSES
    for entry in rec.per_class.values():
        assert set(entry) == {"accuracy", "recall", "coverage", "real"} and set(entry["real"]) == {"recall", "coverage"}
        assert all(0.0 <= v <= 1.0 for v in (entry["recall"], entry["coverage"], *entry["real"].values()))
    assert sum(n.startswith("per-class fid left out (every class)") for n in rec.notes) == 1
    claim = {c.id: c for c in claims_for(load_benchmark("tiny-fashion", tmp_path))}[CLAIM]
    assert [k.n_left for k in claim.comparisons] == [1, 1]            # measured: one run, so no test yet
    assert claim.verdict in (INCONCLUSIVE, DOES_NOT_HOLD) and "not measured" not in claim.reason


# ----------------------------------------------------------------------------- the claim
def per_class(recall, real_recall, coverage=None, real_coverage=None) -> dict:
    """A record's ``per_class``: each class's accuracy, recall and coverage, and its bar (``real``);
    class k's values are the given ones plus 0.01 k."""
    out = {}
    for k, c in enumerate(CLASSES):
        entry, real = {"accuracy": 0.8}, {}
        for key, v, side in (("recall", recall, entry), ("coverage", coverage, entry),
                             ("recall", real_recall, real), ("coverage", real_coverage, real)):
            if v is not None:
                side[key] = v + 0.01 * k
        if real:
            entry["real"] = real
        out[c] = entry
    return out


def write_records(results: Path, runs: dict[int, dict], status: dict[int, str] | None = None) -> Path:
    """cGAN records of a fashion benchmark: seed -> per_class (status ok unless ``status`` says)."""
    for seed, pc in runs.items():
        d = results / "fashion" / "runs" / f"cgan-s{seed}"
        d.mkdir(parents=True)
        st = (status or {}).get(seed, "ok")
        d.joinpath("record.json").write_text(json.dumps({
            "benchmark": "fashion", "model": "cgan", "dataset": "fashion-mnist", "seed": seed, "status": st,
            "reason": None if st == "ok" else "loss became NaN", "metrics": {"fid": 30.0}, "per_class": pc}))
    return results


def the_claim(results: Path):
    bench = load_benchmark("fashion", results)
    return {c.id: c for c in claims_for(bench)}[CLAIM], bench


def test_collapsed_classes_hold_over_three_runs_paired(tmp_path):
    runs = {s: per_class(0.05 + 0.01 * s, 0.85 - 0.01 * s, 0.10 + 0.01 * s, 0.85 - 0.01 * s) for s in range(3)}
    runs[3] = per_class(0.9, 0.1, 0.9, 0.1)                           # diverged: not counted
    claim, bench = the_claim(write_records(tmp_path, runs, status={3: "diverged"}))
    assert claim.title == "cGAN collapses within classes"
    assert claim.verdict == HOLDS, claim.reason
    assert [k.test for k in claim.comparisons] == ["paired t (one-sided)"] * 2
    recall = claim.comparisons[0]
    assert recall.n_left == recall.n_right == 3 and recall.relation == "<"
    assert recall.left_values == pytest.approx([0.05 + 0.01 * s + 0.045 for s in range(3)])   # mean over classes
    assert recall.right_values == pytest.approx([0.85 - 0.01 * s + 0.045 for s in range(3)])
    md = claims_markdown(bench, [claim])
    assert "| class | cgan recall | real recall | cgan coverage | real coverage | n |" in md
    assert "| Ankle boot | 0.150 ± 0.010 | 0.930 ± 0.010 | 0.200 ± 0.010 | 0.930 ± 0.010 | 3 |" in md
    assert "Furthest below the bar:" in md and "cgan-s3 diverged" in md


def test_samples_as_diverse_as_the_real_bar_do_not_hold(tmp_path):
    runs = {s: per_class(0.82 + 0.01 * s, 0.80, 0.95, 0.93 + 0.01 * s) for s in range(3)}
    claim, _ = the_claim(write_records(tmp_path, runs))
    assert claim.verdict == DOES_NOT_HOLD
    assert "has the wrong sign" in claim.reason


def test_the_comparison_pairs_each_run_with_its_own_bar(tmp_path):
    """The bar moves from run to run (0.3, 0.6, 0.9) and cGAN sits 0.01 under it each time: paired, a
    constant difference holds; the two sides alone (Welch) overlap far too much to tell."""
    runs = {s: per_class(0.29 + 0.3 * s, 0.30 + 0.3 * s, 0.29 + 0.3 * s, 0.30 + 0.3 * s) for s in range(3)}
    claim, _ = the_claim(write_records(tmp_path, runs))
    assert claim.verdict == HOLDS, claim.reason
    assert all(k.p < 1e-6 for k in claim.comparisons)                 # (almost) no spread of the differences
    k = claim.comparisons[0]
    assert compare("welch", k.left, k.left_values, "<", k.right, k.right_values).verdict == INCONCLUSIVE


def test_records_that_predate_per_class_recall_say_so(tmp_path):
    old = {c: {"accuracy": 0.8, "note": "TooFewSamplesError: fid needs at least 256 samples"} for c in CLASSES}
    claim, _ = the_claim(write_records(tmp_path, {s: old for s in range(3)}))
    assert claim.verdict == INCONCLUSIVE
    assert claim.reason.startswith("not measured: records predate per-class recall")
    assert all(k.reason.startswith("not measured: records predate per-class") for k in claim.comparisons)


def test_per_class_recall_without_its_bar_is_not_compared(tmp_path):
    claim, _ = the_claim(write_records(tmp_path, {s: per_class(0.1, None, 0.1, None) for s in range(3)}))
    assert claim.verdict == INCONCLUSIVE
    assert all("no real baseline" in k.reason and not k.left_values for k in claim.comparisons)


def test_no_cgan_records(tmp_path):
    d = tmp_path / "fashion" / "runs" / "vae-s0"
    d.mkdir(parents=True)
    d.joinpath("record.json").write_text(json.dumps({"model": "vae", "dataset": "fashion-mnist", "seed": 0,
                                                     "status": "ok", "metrics": {"fid": 50.0}}))
    claim, _ = the_claim(tmp_path)
    assert claim.verdict == INCONCLUSIVE and claim.reason == "cgan has no records in this benchmark"


def test_the_mean_over_classes_takes_the_classes_that_have_both_sides():
    pc = {"a": {"recall": 0.1, "real": {"recall": 0.8}}, "b": {"recall": 0.3, "real": {"recall": 0.6}},
          "c": {"recall": 0.99}, "d": {"accuracy": 1.0, "real": {"recall": 0.0}}}
    run = Run("cgan-s0", Path("."), RunRecord(model="cgan", status="ok", per_class=pc))
    assert class_means(run, "recall") == pytest.approx((0.2, 0.7))
    assert class_means(run, "coverage") is None
    assert run.class_accuracies == {"d": 1.0}
