"""Scores on the way (the runner key ``score_at_steps``, the record's ``at_steps``) and the claims
that compare two models after the same number of images shown (``improves_on``).

Tiny real runs on a subset of Fashion-MNIST: DCGAN and ProGAN at their tiny presets, both at
batch 16, so that DCGAN scored after 20 of its 40 steps has seen as many images as ProGAN after
its 20.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genzoo.bench import load_benchmark, run_benchmark
from genzoo.errors import UserError
from genzoo.models import get_model_class
from genzoo.report import HOLDS, INCONCLUSIVE, evaluate_claims
from genzoo.report.records import load_benchmark as load_results
from genzoo.report.summary import fmt

BATCH = 16
FAMILY = {"gan": {"batch_size": BATCH}}
SCORED = {"n_samples": 256, "reference_subset": 256}      # FID needs 256 (twice the evaluator's features)


def _records(out: Path, name: str) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((out / name / "runs").glob("*/record.json"))}


def _run(make_benchmark, name, models, model_settings, dataset="fashion-mnist",
         **settings) -> tuple[Path, dict[str, dict]]:
    toml = make_benchmark(name, dataset, models, family_settings=FAMILY, model_settings=model_settings, **settings)
    out = toml.parent / "results"
    run_benchmark(toml, profile="tiny", out=out, quiet=True)
    return out, _records(out, name)


@pytest.fixture(scope="module")
def runs(make_benchmark):
    """dcgan 40 steps scored after 20 (and 35) on the way, progan 20 steps; dcgan 40 steps without
    scores on the way; dcgan 20 steps."""
    on_the_way, a = _run(make_benchmark, "later", ["dcgan", "progan"],
                         {"dcgan": {"max_steps": 40, "score_at_steps": [35, 20]}, "progan": {"max_steps": 20}}, **SCORED)
    _, b = _run(make_benchmark, "plain", ["dcgan"], {"dcgan": {"max_steps": 40}}, **SCORED)
    _, c = _run(make_benchmark, "short", ["dcgan"], {"dcgan": {"max_steps": 20}}, **SCORED)
    return on_the_way, a, b["dcgan-s0"], c["dcgan-s0"]


def test_scores_on_the_way_are_recorded_in_step_order(runs):
    _, a, _, _ = runs
    dcgan, progan = a["dcgan-s0"], a["progan-s0"]
    assert dcgan["status"] == "ok" and progan["status"] == "ok"
    rows = dcgan["at_steps"]
    assert [r["step"] for r in rows] == [20, 35]
    assert [r["items_seen"] for r in rows] == [20 * BATCH, 35 * BATCH]
    assert rows[0]["epoch"] == pytest.approx(20 * BATCH / dcgan["train"]["train_items"])
    assert set(rows[0]["metrics"]) == set(dcgan["metrics"]) - {k for k in dcgan["metrics"] if k.endswith("_normal_prior")}
    assert all(r["score_s"] > 0 for r in rows)
    assert progan["at_steps"] is None                          # not asked: nothing on the way
    assert dcgan["plan"]["settings"]["score_at_steps"] == [35, 20]


def test_scoring_on_the_way_leaves_the_fit_as_it_was(runs):
    """Sampling and scoring part-way draws nothing from the training's random streams and leaves
    its networks in training mode: the final scores are those of the same run without them, and
    the scores after 20 steps those of a run that stops there."""
    _, a, plain, short = runs
    dcgan = a["dcgan-s0"]
    assert dcgan["metrics"] == plain["metrics"]
    assert dcgan["at_steps"][0]["metrics"] == short["metrics"]
    assert dcgan["train"]["items_seen"] == plain["train"]["items_seen"] == 40 * BATCH


def test_a_later_gan_is_compared_with_its_base_after_the_same_images(runs):
    out, a, _, _ = runs
    assert get_model_class("progan").improves_on == "dcgan" and get_model_class("stylegan").improves_on == "dcgan"
    claims = {c.id: c for c in evaluate_claims("later", out)}
    claim = claims["fid-at-equal-images"]
    [k] = claim.comparisons
    assert k.label == f"progan vs dcgan after {20 * BATCH:,} images"
    assert k.left_values == [a["progan-s0"]["metrics"]["fid"]]
    assert k.right_values == [a["dcgan-s0"]["at_steps"][0]["metrics"]["fid"]]   # not its final fid
    assert k.right_values != [a["dcgan-s0"]["metrics"]["fid"]]
    assert (k.n_left, k.n_right) == (1, 1) and claim.verdict != HOLDS    # one seed a side: never HOLDS
    bench = load_results("later", out)
    assert bench.items_seen("progan") == 20 * BATCH and bench.items_seen("dcgan") == 40 * BATCH


def test_a_base_not_scored_after_those_images_makes_the_claim_inconclusive(make_benchmark):
    out, recs = _run(make_benchmark, "unmatched", ["dcgan", "progan"],
                     {"dcgan": {"max_steps": 10}, "progan": {"max_steps": 5}}, n_samples=100)   # no fid: the
    # claim is made all the same (nothing to compare is a reason, not a missing claim)
    claim = {c.id: c for c in evaluate_claims("unmatched", out)}["fid-at-equal-images"]
    [k] = claim.comparisons
    assert claim.verdict == INCONCLUSIVE and k.right_values == []
    assert k.reason == (f"dcgan was not scored after {5 * BATCH:,} images (its own fit shows {10 * BATCH}; "
                        "score_at_steps scores it on the way)")


def test_the_claim_is_left_out_where_no_later_gan_ran(make_benchmark):
    out, _ = _run(make_benchmark, "no-later", ["dcgan"], {"dcgan": {"max_steps": 5}}, n_samples=100)
    assert "fid-at-equal-images" not in {c.id for c in evaluate_claims("no-later", out)}


@pytest.mark.parametrize("bad", [[0], [3, 3], ["10"], 10, [True]])
def test_score_at_steps_must_be_distinct_positive_steps(make_benchmark, bad):
    toml = make_benchmark("bad", "fashion-mnist", ["dcgan"], score_at_steps=bad)
    with pytest.raises(UserError, match="score_at_steps"):
        load_benchmark(toml)


def test_progan_minibatch_std_is_compared_with_dcgan_after_the_same_items(make_benchmark):
    """On Stacked Fashion-MNIST the remedy claim takes ProGAN (it declares the minibatch-std remedy
    and improves_on = "dcgan", not variant_of) against DCGAN's modes after ProGAN's items, and shows
    both sides' FID and precision there."""
    out, recs = _run(make_benchmark, "stacked", ["dcgan", "progan"],
                     {"dcgan": {"max_steps": 12, "score_at_steps": [6]}, "progan": {"max_steps": 6}},
                     dataset="stacked-fashion-mnist", dataset_options={"n": 600}, train_subset=None, n_samples=256,
                     reference_subset=256, per_class=False, metrics=["modes_covered", "precision", "recall"])
    assert get_model_class("progan").remedy == "minibatch_std" and not get_model_class("progan").variant_of
    claim = {c.id: c for c in evaluate_claims("stacked", out)}["minibatch_std-more-modes"]
    [k] = claim.comparisons
    assert k.label == f"progan vs dcgan after {6 * BATCH:,} images"
    assert k.left_values == [recs["progan-s0"]["metrics"]["modes_covered"]]
    assert k.right_values == [recs["dcgan-s0"]["at_steps"][0]["metrics"]["modes_covered"]]
    [line] = [d for d in claim.details if d.startswith(f"After {6 * BATCH:,} images: ")]
    p, d = recs["progan-s0"]["metrics"]["precision"], recs["dcgan-s0"]["at_steps"][0]["metrics"]["precision"]
    assert line == f"After {6 * BATCH:,} images: precision progan {fmt(p)}, dcgan {fmt(d)}."


def test_scores_on_the_way_are_logged_to_wandb_at_their_step(tmp_path, make_benchmark):
    """The offline W&B run (read back from its folder) has each score on the way at its step,
    equal to the record's."""
    from genzoo.bench.tracking.offline import find_runs

    toml = make_benchmark("ways", "grid", ["gan"], folder=tmp_path, dataset_options={"n": 1000}, reference_subset=500,
                          n_samples=500, max_steps=10, log_every=2, score_at_steps=[4, 8])
    mp = pytest.MonkeyPatch()
    mp.setenv("WANDB_MODE", "offline")
    try:
        run_benchmark(toml, profile="tiny", out=tmp_path / "results", wandb_project="genzoo-tests", quiet=True)
    finally:
        mp.undo()
    rec = _records(tmp_path / "results", "ways")["gan-s0"]
    [run] = [r for r in find_runs(tmp_path / "results" / "ways" / "wandb") if r.name == "gan-s0"]
    logged = {row["_step"]: {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("at_steps/")}
              for row in run.history if any(k.startswith("at_steps/") for k in row)}
    assert sorted(logged) == [4, 8]
    for row in rec["at_steps"]:
        want = {k: v for k, v in row["metrics"].items() if v is not None}
        assert logged[row["step"]] == pytest.approx(want)
    assert "modes_covered" in logged[4]


def test_seeds_trained_together_are_each_scored_on_the_way(tmp_path, make_benchmark):
    """--pack on: each seed's record has its own scores on the way, from its own weights (the
    scores after step 4 of a seed are those of that seed's 4-step packed run)."""
    def bench(name, steps, at):
        toml = make_benchmark(name, "grid", ["gan"], folder=tmp_path / name, seeds=[0, 1], dataset_options={"n": 1000},
                              reference_subset=500, n_samples=500, max_steps=steps,
                              **({"score_at_steps": at} if at else {}))
        run_benchmark(toml, profile="tiny", out=tmp_path / name / "results", wandb=False, quiet=True, pack="on")
        return _records(tmp_path / name / "results", name)

    long, short = bench("long", 8, [4]), bench("short", 4, None)
    for seed in (0, 1):
        rec = long[f"gan-s{seed}"]
        assert rec["train"]["packed_with"] == [0, 1]
        [row] = rec["at_steps"]
        assert row["step"] == 4 and row["metrics"] == short[f"gan-s{seed}"]["metrics"]
    assert long["gan-s0"]["at_steps"][0]["metrics"] != long["gan-s1"]["at_steps"][0]["metrics"]
