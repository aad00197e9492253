"""genzoo.report against synthetic run records written into tmp_path (real JSON / CSV / PNG / PT files)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from genzoo.errors import UserError
from genzoo.report import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, build_report, evaluate_claims, readme_snippet, summary
from genzoo.report import cli as report_cli
from genzoo.report.summary import markdown_table

HIB = {"fid": False, "kid": False, "precision": True, "recall": True, "modes_covered": True,
       "label_accuracy": True, "fid_normal_prior": False, "high_quality_frac": True}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# ----------------------------------------------------------------------------- synthetic records
def _grid_png(path, rows=8, cols=8, seed=0):
    rng = np.random.default_rng(seed)
    img = np.full((rows * 30 + 2, cols * 30 + 2), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            img[2 + r * 30: 30 + r * 30, 2 + c * 30: 30 + c * 30] = rng.integers(0, 256, (28, 28))
    Image.fromarray(img).save(path)


def _history(model, steps=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(1, steps + 1)
    h = {"step": t, "epoch": (t - 1) // 20}
    if model in ("gan", "dcgan", "wgan", "cgan"):
        h.update(loss_d=1.3 - 0.3 * np.log1p(t) / 5 + 0.1 * rng.standard_normal(steps),
                 loss_g=0.7 + 0.4 * np.log1p(t) / 5 + 0.1 * rng.standard_normal(steps),
                 d_real=np.clip(0.6 + 0.05 * rng.standard_normal(steps), 0, 1),
                 d_fake=np.clip(0.4 + 0.05 * rng.standard_normal(steps), 0, 1))
        if model == "wgan":                          # a critic: scores, not probabilities
            h["wasserstein"] = 2.0 * np.exp(-t / 30) + 0.05 * rng.standard_normal(steps)
            h["d_real"], h["d_fake"] = h["wasserstein"] / 2 + 1.5, -h["wasserstein"] / 2 - 0.5
    elif model == "vae":
        h.update(recon=250 * np.exp(-t / 40) + 100, kl=10 + 5 * (1 - np.exp(-t / 20)))
        h["loss"] = h["recon"] + h["kl"]
    else:
        h.update(recon=250 * np.exp(-t / 40) + 80)
    return pd.DataFrame(h)


def write_run(results, benchmark, model, seed, metrics=None, *, status="ok", reason=None, dataset="fashion-mnist",
              files=True, per_class=None, notes=()):
    """One run folder as the bench runner writes it: record.json, history.csv.gz, samples.png / samples.pt."""
    run_dir = results / benchmark / "runs" / f"{model}-s{seed}"
    run_dir.mkdir(parents=True)
    metrics = dict(metrics or {}) if status == "ok" else {}
    record = {
        "benchmark": benchmark, "model": model, "dataset": dataset, "seed": seed, "profile": "smoke",
        "status": status, "reason": reason, "config": {"latent_dim": 8}, "train": {"epochs": 1, "batch_size": 64},
        "versions": {"genzoo": "0.1.0", "torch": "2.x", "python": "3.11"}, "git_commit": "abc1234",
        "device": "cpu", "wall_time_s": 12.5 + seed, "throughput": {"train_items_per_s": 1000.0 + seed,
                                                                 "sample_items_per_s": 5e4},
        "metrics": metrics, "higher_is_better": {k: HIB.get(k, True) for k in metrics}, "notes": list(notes),
        "per_class": per_class, "created": f"2025-01-01T00:00:0{seed}",
    }
    (run_dir / "record.json").write_text(json.dumps(record))
    if status == "ok" and files:
        _history(model, seed=seed).to_csv(run_dir / "history.csv.gz", index=False)
        if dataset in ("ring", "grid"):
            g = torch.Generator().manual_seed(seed)
            means = torch.tensor([[math.cos(a), math.sin(a)] for a in np.arange(8) * 2 * math.pi / 8])
            k = 1 if model == "gan" else 8           # a collapsed GAN: all samples on one mode
            torch.save(means[torch.randint(k, (2500,), generator=g)] + 0.01 * torch.randn(2500, 2, generator=g),
                       run_dir / "samples.pt")
        else:
            _grid_png(run_dir / "samples.png", rows=10 if model == "cgan" else 8, seed=seed)
            g = torch.Generator().manual_seed(seed)
            torch.save(torch.rand(64, 1, 28, 28, generator=g), run_dir / "samples.pt")
            if model == "ae":
                torch.save(torch.rand(64, 1, 28, 28, generator=g) * 0.3, run_dir / "samples_normal_prior.pt")
    return run_dir


FASHION_FID = {"vae": [60.0, 62.0, 65.0], "gan": [30.0, 31.5, 35.0], "dcgan": [20.0, 22.0, 21.0],
               "wgan": [25.0, 26.0, 24.5], "cgan": [28.0, 29.0, 33.0], "ae": [70.0, 71.0, 69.0]}


def make_fashion(results, fid=None, *, with_sharpness=True, seeds=(0, 1, 2), failed=True, files=True):
    fid = fid or FASHION_FID
    rng = np.random.default_rng(0)
    for model, vals in fid.items():
        for seed, v in zip(seeds, vals):
            m = {"fid": v, "kid": v / 1000, "precision": 0.5 + 0.01 * seed, "recall": 0.3 + 0.02 * seed}
            if with_sharpness:
                m["sharpness"] = (0.01 if model in ("vae", "ae") else 0.05) + 0.001 * seed
            frac = rng.dirichlet(np.ones(10))
            m.update({f"class_frac_{k}": float(f) for k, f in enumerate(frac)})
            per_class = None
            if model == "cgan":                      # as the runner writes it: per_class, no label_accuracy metric
                per_class = {c: {"accuracy": 0.75 + 0.01 * k + 0.01 * seed, "fid": 40.0} for k, c in enumerate(CLASSES)}
            if model == "ae":
                m.update(fid_normal_prior=150.0 + seed, kid_normal_prior=0.15)
            write_run(results, "fashion", model, seed, m, per_class=per_class, files=files,
                      notes=["fid on evaluator features"])
    if failed:
        write_run(results, "fashion", "vae", 3, status="diverged", reason="loss became NaN at step 17")
        write_run(results, "fashion", "gan", 3, status="failed", reason="CUDA out of memory")


def make_ring(results, gan_modes=(1, 2, 1), wgan_modes=(8, 7, 8), pacgan4_modes=()):
    for model, modes in (("gan", gan_modes), ("wgan", wgan_modes), ("pacgan4", pacgan4_modes)):
        for seed, k in enumerate(modes):
            write_run(results, "modes-ring", model, seed, {"modes_covered": float(k), "high_quality_frac": 0.9},
                      dataset="ring")
    write_run(results, "modes-ring", "vae", 0, status="skipped", reason="vae does not apply to points data",
              dataset="ring")


def by_id(claims):
    return {c.id: c for c in claims}


# ----------------------------------------------------------------------------- summary
def test_summary_csv_means_stds_n_sorting_and_failed_runs(tmp_path):
    make_fashion(tmp_path)
    rep = build_report("fashion", tmp_path, figures=False)
    csv = pd.read_csv(tmp_path / "fashion" / "summary.csv")
    assert list(csv.columns[:4]) == ["model", "n", "fid_mean", "fid_std"]
    assert {"kid_mean", "kid_std", "class_frac_9_mean", "sharpness_std"} <= set(csv.columns)
    vae = csv.set_index("model").loc["vae"]
    assert vae["n"] == 3                                         # the diverged 4th seed is not counted
    assert vae["fid_mean"] == pytest.approx(np.mean(FASHION_FID["vae"]))
    assert vae["fid_std"] == pytest.approx(np.std(FASHION_FID["vae"], ddof=1))
    assert csv.set_index("model").loc["gan", "n"] == 3
    # cGAN's label accuracy: the mean of its per-class accuracies, then mean over seeds
    assert csv.set_index("model").loc["cgan", "label_accuracy_mean"] == pytest.approx(np.mean(
        [np.mean([0.75 + 0.01 * k + 0.01 * s for k in range(10)]) for s in range(3)]))
    expected = sorted(FASHION_FID, key=lambda m: np.mean(FASHION_FID[m]))     # lower FID is better
    assert list(csv["model"]) == expected
    pd.testing.assert_frame_equal(summary("fashion", tmp_path), csv, check_dtype=False)

    md = (tmp_path / "fashion" / "summary.md").read_text()
    assert "vae-s3" in md and "diverged" in md and "loss became NaN at step 17" in md
    assert "gan-s3" in md and "CUDA out of memory" in md
    assert "| dcgan | 3 | **21.0 ± 1.0** |" in md                 # best (lowest) fid in bold
    assert "Decodes of N(0, I) codes" in md and "| ae | 3 | 151.0 ± 1.0 | 0.15 ± 0 |" in md
    assert "profile: smoke" in md and "device: cpu" in md and "torch 2.x" in md
    assert rep.summary.attrs["primary"] == "fid"
    assert not list((tmp_path / "fashion").glob(".*tmp"))       # atomic writes leave no temporary files


def test_sharpness_best_is_closest_to_real_not_highest():
    # sharpness = Laplacian variance / the real images': 0.3 blurry, 1.7 noisy, 0.95 nearly real
    df = pd.DataFrame({"model": ["vae", "gan", "dcgan"], "n": [3, 3, 3], "sharpness_mean": [0.3, 1.7, 0.95],
                       "sharpness_std": [0.01, 0.1, 0.02]})
    df.attrs["higher_is_better"] = {"sharpness": None}
    md = markdown_table(df, ["sharpness"])
    assert "| model | n | sharpness →1 |" in md
    assert "| dcgan | 3 | **0.950 ± 0.020** |" in md and "**1.7" not in md


def test_mode_benchmark_sorts_by_modes_covered_descending(tmp_path):
    make_ring(tmp_path, gan_modes=(1, 2, 1), wgan_modes=(8, 7, 8))
    csv = pd.read_csv(build_report("modes-ring", tmp_path, figures=False).files["summary_csv"])
    assert list(csv["model"]) == ["wgan", "gan", "vae"]              # vae: skipped, n = 0, last
    assert csv.loc[2, "n"] == 0 and math.isnan(csv.loc[2, "modes_covered_mean"])
    assert csv.loc[0, "modes_covered_mean"] == pytest.approx(23 / 3)
    lit = (tmp_path / "modes-ring" / "literature.md").read_text()
    assert "VEEGAN" in lit and "comparable in definition" in lit.lower()


def test_runs_of_two_protocol_versions_and_devices(tmp_path):
    """Runs recorded before a metric was added: its mean is over the runs that have it, and the
    table says so instead of implying all n; wall times are per device."""
    for seed, modes in enumerate((6, 6, 7, 5, 6)):
        m = {"modes_covered": float(modes), "high_quality_frac": 0.9}
        if seed >= 3:
            m.update(precision=0.9 + 0.02 * (seed - 3), recall=0.5)
        run_dir = write_run(tmp_path, "modes-ring", "gan", seed, m, dataset="ring", files=False)
        if seed < 3:                                   # seeds 0-2 on a GPU, 3-4 on a CPU
            rec = json.loads((run_dir / "record.json").read_text())
            rec.update(device="cuda", wall_time_s=100.0 + seed)
            (run_dir / "record.json").write_text(json.dumps(rec))
    rep = build_report("modes-ring", tmp_path, figures=False)
    csv = pd.read_csv(rep.files["summary_csv"]).set_index("model")
    assert csv.loc["gan", "n"] == 5 and csv.loc["gan", "precision_mean"] == pytest.approx(0.91)
    md = (tmp_path / "modes-ring" / "summary.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| gan |"))
    assert "6.00 ± 0.71** |" in row                               # modes_covered: over all 5 runs
    assert "0.910 ± 0.014** (n = 2) |" in row and "0.5 ± 0** (n = 2) |" in row
    assert "not drawn by this report (`--no-figures`)" in md      # figures=False: not "could not be drawn"
    # the cost of runs on two devices is not averaged across them
    assert "| gan | cpu | 2 | 16.00 ± 0.71 |" in md and "| gan | cuda | 3 | 101.0 ± 1.0 |" in md


# ----------------------------------------------------------------------------- claims
def test_claim_vae_fid_holds_then_flipped_does_not_hold(tmp_path):
    make_fashion(tmp_path / "a", files=False)
    c = by_id(evaluate_claims("fashion", tmp_path / "a"))
    assert c["vae-fid-worse"].verdict == HOLDS
    assert c["vae-less-sharp"].verdict == HOLDS
    assert c["ae-prior-worse"].verdict == HOLDS
    assert c["cgan-labels"].verdict == HOLDS
    p = c["vae-fid-worse"].comparisons[0].p
    assert 0 <= p < 0.05 and c["vae-fid-worse"].comparisons[0].n_left == 3

    flipped = dict(FASHION_FID, vae=[10.0, 11.0, 12.0])             # VAE now better than every GAN
    make_fashion(tmp_path / "b", flipped, files=False)
    c = by_id(evaluate_claims("fashion", tmp_path / "b"))
    assert c["vae-fid-worse"].verdict == DOES_NOT_HOLD
    assert all(k.verdict == DOES_NOT_HOLD for k in c["vae-fid-worse"].comparisons)

    one_gan_better = dict(FASHION_FID, vae=[21.0, 22.0, 23.0])      # worse than dcgan only -> not "every"
    make_fashion(tmp_path / "c", one_gan_better, files=False)
    assert by_id(evaluate_claims("fashion", tmp_path / "c"))["vae-fid-worse"].verdict == DOES_NOT_HOLD

    build_report("fashion", tmp_path / "b", figures=False)
    md = (tmp_path / "b" / "fashion" / "claims.md").read_text()
    assert "DOES NOT HOLD" in md and "Verdict rule" in md and "Welch" in md


def test_claims_inconclusive_when_metric_missing_or_n_too_small(tmp_path):
    make_fashion(tmp_path / "a", with_sharpness=False, files=False)
    c = by_id(evaluate_claims("fashion", tmp_path / "a"))
    assert c["vae-less-sharp"].verdict == INCONCLUSIVE
    assert "no values" in c["vae-less-sharp"].reason
    assert c["vae-fid-worse"].verdict == HOLDS

    single = {m: v[:1] for m, v in FASHION_FID.items()}             # n = 1: right sign, no test possible
    make_fashion(tmp_path / "b", single, seeds=(0,), failed=False, files=False)
    c = by_id(evaluate_claims("fashion", tmp_path / "b"))
    assert c["vae-fid-worse"].verdict == INCONCLUSIVE
    assert "not possible" in c["vae-fid-worse"].reason
    assert math.isnan(c["vae-fid-worse"].comparisons[0].p)

    noisy = dict(FASHION_FID, vae=[20.0, 45.0, 70.0])               # right sign vs gan, but p >= 0.05
    make_fashion(tmp_path / "c", {k: noisy[k] for k in ("vae", "gan", "wgan", "cgan")}, failed=False, files=False)
    c = by_id(evaluate_claims("fashion", tmp_path / "c"))["vae-fid-worse"]
    assert c.verdict == INCONCLUSIVE and "p = " in c.reason         # not significant
    assert [k.label for k in c.comparisons] == ["vae vs cgan", "vae vs wgan"]   # the conv GANs; dcgan never ran

    make_fashion(tmp_path / "d", files=False)                       # dcgan ran, but no run of it is ok
    for run in (tmp_path / "d" / "fashion" / "runs").glob("dcgan-s*/record.json"):
        rec = json.loads(run.read_text())
        run.write_text(json.dumps(dict(rec, status="diverged", reason="NaN", metrics={})))
    c = by_id(evaluate_claims("fashion", tmp_path / "d"))["vae-fid-worse"]
    assert c.verdict == INCONCLUSIVE and "dcgan" in c.reason


def test_mode_collapse_claims(tmp_path):
    make_ring(tmp_path / "a", gan_modes=(1, 2, 1), wgan_modes=(8, 7, 8))
    c = by_id(evaluate_claims("modes-ring", tmp_path / "a"))
    assert c["gan-fewer-modes"].verdict == HOLDS
    assert c["gan-recall-below-precision"].verdict == INCONCLUSIVE  # no precision/recall on the ring
    assert "pack-more-modes" not in c                                 # no packed model ran
    make_ring(tmp_path / "b", gan_modes=(8, 8, 8), wgan_modes=(8, 8, 8))
    assert by_id(evaluate_claims("modes-ring", tmp_path / "b"))["gan-fewer-modes"].verdict == DOES_NOT_HOLD


def test_remedy_claim_compares_each_variant_with_the_model_it_declares(tmp_path):
    make_ring(tmp_path / "a", gan_modes=(1, 2, 1), pacgan4_modes=(8, 7, 8))
    build_report("modes-ring", tmp_path / "a", figures=False)
    lit = (tmp_path / "a" / "modes-ring" / "literature.md").read_text()
    assert "| PacGAN | PacGAN4 | 7.8 | 95.9 |" in lit and "| genzoo | pacgan4 (PacGAN4) | 7.67 ± 0.58 (n=3) |" in lit
    c = by_id(evaluate_claims("modes-ring", tmp_path / "a"))["pack-more-modes"]
    assert c.verdict == HOLDS and [k.label for k in c.comparisons] == ["pacgan4 vs gan"]
    assert "PacGAN4 24.8" in c.statement                              # the literature's numbers
    make_ring(tmp_path / "b", gan_modes=(8, 7, 8), pacgan4_modes=(2, 1, 1))
    assert by_id(evaluate_claims("modes-ring", tmp_path / "b"))["pack-more-modes"].verdict == DOES_NOT_HOLD


def test_mode_summary_shows_each_seed_and_the_share_that_collapsed(tmp_path):
    make_ring(tmp_path, gan_modes=(1, 3, 4), wgan_modes=(8, 7, 8))
    build_report("modes-ring", tmp_path, figures=False)
    text = (tmp_path / "modes-ring" / "summary.md").read_text()
    assert "| gan | 2 of 3 (67%) | gan-s0: 1, gan-s1: 3, gan-s2: 4 |" in text    # 4 of 8 is half: not collapsed
    assert "| wgan | 0 of 3 (0%) |" in text


# ----------------------------------------------------------------------------- figures
def _assert_png(path, min_side=150):
    assert path.is_file(), path
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"))
    assert min(a.shape[:2]) >= min_side
    assert (a != a[0, 0]).any(axis=-1).mean() > 0.01               # not one flat colour


def test_figures_are_valid_nontrivial_pngs(tmp_path):
    make_fashion(tmp_path)
    make_ring(tmp_path)
    rep = build_report("fashion", tmp_path)
    fig_dir = tmp_path / "fashion" / "figures"
    for name in ("samples", "training_curves", "precision_recall", "mode_coverage", "cgan_per_class", "ae_vs_vae_prior"):
        assert name in rep.figures
        _assert_png(fig_dir / f"{name}.png")
    assert "samples_over_modes" not in rep.figures
    assert "figures/samples.png" in (tmp_path / "fashion" / "summary.md").read_text()

    rep = build_report("modes-ring", tmp_path)
    for name in ("samples_over_modes", "mode_coverage", "training_curves"):
        _assert_png(tmp_path / "modes-ring" / "figures" / f"{name}.png")
    assert "precision_recall" not in rep.figures and "samples" not in rep.figures


def test_report_survives_missing_and_broken_run_files(tmp_path):
    make_fashion(tmp_path, {m: FASHION_FID[m] for m in ("vae", "gan", "wgan", "dcgan")}, failed=True)
    (tmp_path / "fashion" / "runs" / "wgan-s0" / "samples.png").write_bytes(b"not a png")
    (tmp_path / "fashion" / "runs" / "gan-s0" / "history.csv.gz").unlink()
    bad = tmp_path / "fashion" / "runs" / "dcgan-s9"
    bad.mkdir()
    (bad / "record.json").write_text("{truncated")
    rep = build_report("fashion", tmp_path)
    _assert_png(rep.figures["samples"])
    md = (tmp_path / "fashion" / "summary.md").read_text()
    assert "dcgan-s9" in md and "unreadable" in md
    assert any("wgan-s0/samples.png" in p for p in rep.problems)
    assert pd.read_csv(rep.files["summary_csv"]).set_index("model").loc["dcgan", "n"] == 3


# ----------------------------------------------------------------------------- CLI and README snippet
def test_cli_and_readme_snippet(tmp_path, capsys):
    make_ring(tmp_path)
    parser = argparse.ArgumentParser()
    report_cli.add_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["report", "modes-ring", "--results", str(tmp_path), "--no-figures"])
    assert args.func(args) == 0
    assert "HOLDS" in capsys.readouterr().out
    assert (tmp_path / "modes-ring" / "summary.md").is_file()

    with pytest.raises(UserError, match="nope"):
        args = parser.parse_args(["report", "nope", "--results", str(tmp_path)])
        args.func(args)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no run records"):
        build_report("empty", tmp_path)

    snip = readme_snippet(tmp_path)
    assert "### modes-ring" in snip and "| wgan | 3 |" in snip and "**HOLDS**" in snip


def test_readme_blocks_per_results_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_ring(Path("results"), gan_modes=(1, 2, 1))
    make_ring(Path("results/paper"), gan_modes=(3, 3, 4), wgan_modes=(8, 8, 8))
    readme = Path("README.md")
    readme.write_text("intro\n<!-- results:start -->\nold quick\n<!-- results:end -->\nmiddle\n"
                      "<!-- results:start results/paper -->\nold paper\n<!-- results:end results/paper -->\nend\n")
    report_cli.update_readme(readme, "results/paper")
    text = readme.read_text()
    assert "old quick" in text and "old paper" not in text          # only the paper block changed
    paper = text.split("<!-- results:start results/paper -->")[1]
    assert "results/paper/modes-ring/summary.md" in paper and "| gan | 3 | 3.33" in paper
    report_cli.update_readme(readme, "results")
    text = readme.read_text()
    assert "old quick" not in text and text.startswith("intro\n") and "\nmiddle\n" in text and text.endswith("end\n")
    quick = text.split("<!-- results:start -->")[1].split("<!-- results:end -->")[0]
    assert "(results/modes-ring/summary.md)" in quick and "| gan | 3 | 1.33" in quick
    with pytest.raises(UserError, match="results:start other"):
        report_cli.update_readme(readme, "other")


def test_claims_and_literature_follow_what_models_declare(tmp_path):
    """A model the report has never heard of by name (lsgan, wgan-gp) enters the GAN-family claims
    through its declared family and the published-numbers table through its published names."""
    from genzoo.report.literature import literature_markdown
    from genzoo.report.records import load_benchmark

    fid = {**FASHION_FID, "lsgan": [27.0, 28.0, 26.0], "wgan-gp": [23.0, 24.0, 22.5]}
    make_fashion(tmp_path, fid, failed=False, files=False)
    claim = by_id(evaluate_claims("fashion", tmp_path))["vae-fid-worse"]
    assert [c.label for c in claim.comparisons] == [f"vae vs {g}" for g in ("cgan", "dcgan", "lsgan", "wgan",
                                                                             "wgan-gp")]     # the conv GANs
    assert claim.verdict == HOLDS
    text = literature_markdown(load_benchmark("fashion", tmp_path))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| lsgan |" in rows["LSGAN (Lucic)"] and "27" in rows["LSGAN (Lucic)"]
    assert "| wgan-gp |" in rows["WGAN-GP (Lucic)"] and "| wgan |" in rows["WGAN (Lucic)"]
    assert "| gan |" in rows["NS GAN (Lucic)"] and "| vae |" in rows["cross-entropy VAE (Dai & Wipf)"]
    assert "| – |" in rows["DRAGAN (Lucic)"]                    # no genzoo model is published as DRAGAN


def test_reproduction_check_against_a_reference(tmp_path, capsys):
    """A user's runs beside the committed reference of the same profile: the same numbers agree,
    a model whose FID moved far outside the seeds' spread differs; another profile is not compared."""
    from genzoo.report import cli as report_cli
    from genzoo.report.reproduce import AGREE, DIFFER, compare_values

    make_fashion(tmp_path / "reference", failed=False, files=False)
    moved = {**FASHION_FID, "dcgan": [40.0, 41.0, 42.0]}
    make_fashion(tmp_path / "mine", moved, failed=False, files=False)
    rep = build_report("fashion", tmp_path / "mine", figures=False, reference=tmp_path / "reference")
    text = (tmp_path / "mine" / "fashion" / "summary.md").read_text()
    assert "## Reproduction check" in text and rep.reproduction["differ"] >= 1
    assert "| dcgan | fid | 41.0 ± 1.0 (n=3) | 21.0 ± 1.0 (n=3) | **differ**" in text
    assert "| vae | fid | 62.3 ± 2.5 (n=3) | 62.3 ± 2.5 (n=3) | agree |" in text
    assert compare_values(np.array([1.0, 1.1, 0.9]), np.array([1.05, 0.95, 1.0]))[0] == AGREE
    assert compare_values(np.array([5.0]), np.array([1.05, 0.95, 1.0]))[0] == DIFFER     # one seed: the other's spread

    parser = argparse.ArgumentParser()
    report_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", "fashion", "--results", str(tmp_path / "mine"), "--no-figures",
                              "--reference", str(tmp_path / "reference")])
    assert args.func(args) == 0 and "agree" in capsys.readouterr().out
    # the reference itself, or records of another profile: no comparison
    assert build_report("fashion", tmp_path / "reference", figures=False,
                        reference=tmp_path / "reference").reproduction is None
    for p in (tmp_path / "reference" / "fashion" / "runs").glob("*/record.json"):
        p.write_text(p.read_text().replace('"profile": "smoke"', '"profile": "paper"'))
    assert build_report("fashion", tmp_path / "mine", figures=False, reference=tmp_path / "reference").reproduction is None
    assert "nothing to compare" in (tmp_path / "mine" / "fashion" / "summary.md").read_text()


def test_the_mlp_gan_and_mode_dropping_claims(tmp_path):
    """The MLP GAN is judged apart from the conv GANs (noisy samples, sharpness above the data's), and
    the plain GAN's mode dropping on Fashion-MNIST is recall below precision plus a class histogram
    further from uniform than the VAE's."""
    fid = {k: FASHION_FID[k] for k in ("vae", "gan", "dcgan")}
    make_fashion(tmp_path, fid, failed=False, files=False)
    for p in (tmp_path / "fashion" / "runs").glob("*/record.json"):
        rec = json.loads(p.read_text())
        m, s = rec["metrics"], rec["seed"]
        m["sharpness"] = {"gan": 1.6 + 0.05 * s, "vae": 0.2, "dcgan": 1.0}[rec["model"]] + 0.01 * s
        m["mode_kl"] = {"gan": 0.18 + 0.01 * s, "vae": 0.09 + 0.005 * s, "dcgan": 0.02}[rec["model"]]
        if rec["model"] == "gan":
            m["recall"], m["precision"] = 0.01 + 0.002 * s, 0.7 + 0.01 * s
        p.write_text(json.dumps(rec))
    claims = by_id(evaluate_claims("fashion", tmp_path))
    assert claims["mlp-gan-noisy"].verdict == HOLDS and [c.label for c in claims["mlp-gan-noisy"].comparisons] == [
        "gan sharpness vs 1"]
    assert claims["gan-drops-classes"].verdict == HOLDS and len(claims["gan-drops-classes"].comparisons) == 2
    assert [c.label for c in claims["vae-less-sharp"].comparisons] == ["vae vs dcgan"]


def test_equilibrium_claim_reads_the_end_of_each_runs_history(tmp_path):
    """The 1010-pattern claim: the last 10% of the steps of each seed's history.csv.gz, D's two
    outputs at 1/2 and the loss at its equilibrium value (ln 2 for the GAN's G, 1/4 for LSGAN's D)."""
    def write(results, model, seed, d_real, d_fake, loss):
        run = write_run(results, "pattern-1010", model, seed, {"precision": 0.3, "recall": 0.1}, dataset="pattern-1010",
                        files=False)
        t = np.arange(1, 101)
        h = pd.DataFrame({"step": t, "d_real": np.where(t > 90, d_real, 0.9), "d_fake": np.where(t > 90, d_fake, 0.1),
                          "loss_d": np.where(t > 90, loss, 9.0), "loss_g": np.where(t > 90, loss, 9.0)})
        h.to_csv(run / "history.csv.gz", index=False)

    for seed, wobble in enumerate((0.01, -0.012, 0.005)):
        write(tmp_path / "a", "gan", seed, 0.5 + wobble, 0.5 - wobble, math.log(2) + wobble)
        write(tmp_path / "a", "lsgan", seed, 0.5 - wobble, 0.5 + wobble, 0.25 + wobble)
    c = by_id(evaluate_claims("pattern-1010", tmp_path / "a"))["gan-equilibrium"]
    assert c.verdict == HOLDS and len(c.comparisons) == 6            # the steps before the last 10% do not count
    assert [k.label for k in c.comparisons][2] == "gan generator BCE loss ln 2 near 0.693"
    for seed in range(3):                                            # D still wins: D(G(z)) far below 1/2
        write(tmp_path / "b", "gan", seed, 0.8, 0.2 + 0.01 * seed, 1.5)
    c = by_id(evaluate_claims("pattern-1010", tmp_path / "b"))["gan-equilibrium"]
    assert c.verdict == DOES_NOT_HOLD and [k.verdict for k in c.comparisons] == [DOES_NOT_HOLD] * 3


# ----------------------------------------------------------------------------- statistics
def _draw_pairs(results, rng, n_models=10, n_metrics=10, seeds=3, shift=None):
    """Two folders of a toy benchmark (no claims apply), ``mine`` and ``reference``: each (model,
    metric) drawn as ``seeds`` values a side from one normal distribution; ``shift``: (model,
    metric, k) moves that one by k sample standard deviations (both sides' exactly 1)."""
    values = {}
    for i in range(n_models):
        for j in range(n_metrics):
            mu, sigma = rng.uniform(1, 100), rng.uniform(0.01, 5)
            values[(f"m{i}", f"x{j}")] = [mu + sigma * rng.standard_normal(seeds) for _ in range(2)]
    if shift is not None:
        model, metric, k = shift
        base = 50.0 + np.linspace(-1, 1, seeds) * np.sqrt((seeds - 1) / np.sum(np.linspace(-1, 1, seeds) ** 2))
        values[(model, metric)] = [base + k, base]
    for side, name in enumerate(("mine", "reference")):
        for i in range(n_models):
            for seed in range(seeds):
                m = {f"x{j}": float(values[(f"m{i}", f"x{j}")][side][seed]) for j in range(n_metrics)}
                write_run(results / name, "toy", f"m{i}", seed, m, dataset="toy", files=False)
    return values


def _old_two_se_rule_differs(values) -> int:
    """How many comparisons the former rule (|difference| > 2 Welch standard errors, each alone) flags."""
    flagged = 0
    for a, b in values.values():
        se = math.sqrt(np.var(a, ddof=1) / a.size + np.var(b, ddof=1) / b.size)
        flagged += abs(a.mean() - b.mean()) > 2 * se
    return flagged


def test_reproduction_of_an_unchanged_setup_shows_no_difference_by_chance(tmp_path):
    """100 comparisons of 3 against 3 seeds drawn from the same distributions: the per-comparison
    2-standard-error rule flags some by chance alone; Holm over the 100 flags none."""
    values = _draw_pairs(tmp_path, np.random.default_rng(20250101))
    assert _old_two_se_rule_differs(values) >= 5                   # what the old rule would say
    rep = build_report("toy", tmp_path / "mine", figures=False, reference=tmp_path / "reference")
    assert rep.reproduction == {"agree": 100, "differ": 0, "cannot tell": 0}
    text = (tmp_path / "mine" / "toy" / "summary.md").read_text()
    assert "differ when Holm-adjusted p < 0.05 over the 100 comparisons" in text and "Welch" in text
    assert "| model | metric | these runs | reference | verdict | p | Holm-adjusted p |" in text
    assert "0 differ" in text and "**differ**" not in text


def test_reproduction_agrees_on_numbers_equal_up_to_cpu_rounding(tmp_path):
    """The reference's own numbers, each moved by up to 1e-6 relative (another CPU's rounding), agree
    everywhere: constant values (no spread at all) and nearly constant ones included."""
    from genzoo.report.records import load_benchmark
    from genzoo.report.reproduce import AGREE, reproduction

    rng = np.random.default_rng(7)
    ref = {"m0": {"x0": [8.0, 8.0, 8.0], "x1": [0.5, 0.5, 0.5 + 1e-9], "x2": [21.0, 22.5, 20.0]},
           "m1": {"x0": [25.0, 25.0, 25.0], "x1": [0.0123, 0.0123, 0.0123], "x2": [1.0, 3.0, 2.0]}}
    for model, metrics in ref.items():
        factor = {k: 1 + rng.choice([-1, 1]) * rng.uniform(1e-7, 1e-6) for k in metrics}   # per metric
        for seed in range(3):
            m = {k: v[seed] for k, v in metrics.items()}
            write_run(tmp_path / "reference", "toy", model, seed, m, dataset="toy", files=False)
            moved = {k: v * factor[k] for k, v in m.items()}
            write_run(tmp_path / "mine", "toy", model, seed, moved, dataset="toy", files=False)
    rows = reproduction(load_benchmark("toy", tmp_path / "mine"), load_benchmark("toy", tmp_path / "reference"))
    assert len(rows) == 6 and [r.verdict for r in rows] == [AGREE] * 6
    assert all(r.p == 1.0 and "within 1e-5 relative" in r.why for r in rows)


def test_reproduction_still_flags_a_real_shift(tmp_path):
    """One comparison moved by 10 of its seeds' standard deviations among 100: it alone differs, its
    Holm-adjusted p (100 times its own, the smallest) is what the summary shows."""
    from genzoo.report.records import load_benchmark
    from genzoo.report.reproduce import AGREE, DIFFER, reproduction

    _draw_pairs(tmp_path, np.random.default_rng(20250101), shift=("m3", "x4", 10.0))
    rows = reproduction(load_benchmark("toy", tmp_path / "mine"), load_benchmark("toy", tmp_path / "reference"))
    assert len(rows) == 100
    shifted = next(r for r in rows if (r.model, r.metric) == ("m3", "x4"))
    assert shifted.verdict == DIFFER and [r for r in rows if r.verdict == DIFFER] == [shifted]
    assert shifted.p_adj == pytest.approx(100 * shifted.p) and shifted.p_adj < 0.05
    assert all(r.verdict == AGREE and r.p_adj >= 0.05 for r in rows if r is not shifted)
    build_report("toy", tmp_path / "mine", figures=False, reference=tmp_path / "reference")
    text = (tmp_path / "mine" / "toy" / "summary.md").read_text()
    assert "99 agree, 1 differ, 0 cannot tell" in text
    line = next(s for s in text.splitlines() if s.startswith("| m3 | x4 |"))
    assert "**differ** (difference +10 = +12.2 standard errors)" in line and f"| {shifted.p_adj:.4f} |" in line


def test_reproduction_edge_cases_and_holm():
    from scipy import stats

    from genzoo.report.reproduce import AGREE, CANNOT_TELL, DIFFER, compare_values, comparison_p, holm

    assert np.allclose(holm([0.01, 0.04, 0.03, math.nan, 0.005]), [0.03, 0.06, 0.06, math.nan, 0.02], equal_nan=True)
    assert holm([]).size == 0 and holm([0.5])[0] == 0.5
    same = np.array([8.0, 8.0, 8.0])
    assert comparison_p(same, same * (1 + 9e-6))[0] == 1.0                  # within 1e-5 relative: agree
    assert compare_values(same, same * (1 + 9e-6))[0] == AGREE
    assert comparison_p(same, same * (1 + 1e-3)) == (0.0, "no spread, different means")
    assert compare_values(np.array([3.0]), np.array([4.0]))[0] == CANNOT_TELL   # one seed each side, unequal
    assert compare_values(np.array([3.0]), np.array([3.0]))[0] == AGREE
    p, _ = comparison_p(np.array([5.0]), np.array([1.05, 0.95, 1.0]))          # borrows the spread: df 2
    assert p == pytest.approx(2 * stats.t.sf(4.0 / (0.05 * math.sqrt(1 + 1 / 3)), 2))
    assert compare_values(np.array([5.0]), np.array([1.05, 0.95, 1.0]))[0] == DIFFER


def test_claims_report_a_permutation_test_beside_the_t_test(tmp_path):
    """Each comparison carries an exact permutation test in claims.md and claims.json; with 3 seeds a
    side it cannot go below p = 0.05, and the note says so; the verdicts stay the t-test's."""
    make_fashion(tmp_path, failed=False, files=False)
    rep = build_report("fashion", tmp_path, figures=False)
    c = by_id(rep.claims)
    fid = c["vae-fid-worse"]
    assert fid.verdict == HOLDS                                    # the t-test's verdict, as before
    for k in fid.comparisons:                                      # every vae seed worse than every GAN seed
        assert (k.exact_test, k.exact_relabelings, k.exact_enumerated) == ("permutation of the pooled seeds", 20, True)
        assert k.p_exact == pytest.approx(1 / 20) and k.p_exact_min == pytest.approx(0.05) and k.p < 0.05
    labels = c["cgan-labels"].comparisons[0]
    assert labels.exact_test == "sign flip of (value − bar)" and labels.exact_relabelings == 8
    assert labels.p_exact == pytest.approx(1 / 8)
    md = (tmp_path / "fashion" / "claims.md").read_text()
    assert "| p | permutation test (not in the verdict) | permutation p | verdict |" in md
    assert "| permutation of the pooled seeds, all 20 | 0.0500 | HOLDS |" in md
    assert "with 3 seeds a side the exact permutation test cannot go below p = 0.05 (1 of C(6, 3) = 20" in md
    assert "with 3 seeds against the bar the sign-flip test cannot go below p = 0.125" in md
    assert "exact permutation" in md.split("## Overview")[0]        # the verdict rule describes it
    saved = json.loads((tmp_path / "fashion" / "claims.json").read_text())
    k0 = next(x for x in saved if x["id"] == "vae-fid-worse")["comparisons"][0]
    assert k0["p_exact"] == pytest.approx(0.05) and k0["p_exact_min"] == pytest.approx(0.05)
    assert k0["exact_test"] == "permutation of the pooled seeds" and k0["exact_relabelings"] == 20


def test_permutation_test_by_hand_and_its_monte_carlo_above_the_bound():
    from genzoo.report.claims import MONTE_CARLO_DRAWS, compare, exact_floor

    # sums of 3 of {1..6} at most the observed 7: {1,2,3} and {1,2,4}: 2 of 20
    assert compare("a", "l", [1, 2, 4], "<", "r", [3, 5, 6]).p_exact == pytest.approx(2 / 20)
    # paired differences -1, -2, +0.5: flips with a sum at most -2.5: (-1,-2,-0.5) and the observed: 2 of 8
    paired = compare("a", "l", [0.0, 0.0, 1.5], "<", "r", [1.0, 2.0, 1.0], kind="paired")
    assert paired.p_exact == pytest.approx(2 / 8) and paired.exact_relabelings == 8
    assert "with 3 paired seeds the sign-flip test cannot go below p = 0.125" in exact_floor(paired)
    five = compare("a", "l", [0.9, 0.8, 0.85, 0.9, 0.95], ">", "bar", [0.5], kind="one-sample")
    assert five.p_exact == pytest.approx(1 / 32) and exact_floor(five) is None     # 5 seeds can reach it
    # the permutation test below 0.05, the t-test not (one far seed): the verdict is the t-test's
    outlier = compare("a", "l", [1.0, 1.1, 1.2, 1.3, 30.0], ">", "r", [0.0, 0.1, 0.2, 0.3, 0.4])
    assert outlier.p_exact == pytest.approx(1 / 252) and outlier.p > 0.05 and outlier.verdict == INCONCLUSIVE
    # C(24, 12) > 100,000 relabelings: a seeded Monte-Carlo draw, the same each time
    rng = np.random.default_rng(3)
    left, right = rng.normal(0, 1, 12), rng.normal(10, 1, 12)
    mc = compare("a", "l", left, "<", "r", right)
    assert (mc.exact_enumerated, mc.exact_relabelings) == (False, MONTE_CARLO_DRAWS)
    assert mc.p_exact == pytest.approx(1 / (MONTE_CARLO_DRAWS + 1)) == mc.p_exact_min
    assert compare("a", "l", left, "<", "r", right).p_exact == mc.p_exact
    flips = compare("a", "l", np.arange(17.0), ">", "r", np.arange(17.0) - 1, kind="paired")   # 2^17 > 100,000
    assert not flips.exact_enumerated and flips.p_exact == pytest.approx(1 / (MONTE_CARLO_DRAWS + 1))


def test_reproduction_check_says_which_models_were_planned_otherwise(tmp_path):
    """A run of another budget beside the reference is named: its comparison is of two protocols
    (the same plan, or records without one, are not named)."""
    import json

    make_fashion(tmp_path / "reference", failed=False, files=False)
    make_fashion(tmp_path / "mine", failed=False, files=False)

    def set_plan(where: str, model: str, epochs) -> None:
        for p in (tmp_path / where / "fashion" / "runs").glob(f"{model}-s*/record.json"):
            rec = json.loads(p.read_text())
            rec["plan"] = {"overrides": {"epochs": epochs}, "settings": {"n_samples": 2000}}
            p.write_text(json.dumps(rec))

    set_plan("reference", "dcgan", 1.5)
    set_plan("mine", "dcgan", 3)
    set_plan("reference", "vae", 1.5)
    set_plan("mine", "vae", 1.5)
    build_report("fashion", tmp_path / "mine", figures=False, reference=tmp_path / "reference")
    text = (tmp_path / "mine" / "fashion" / "summary.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("Planned otherwise than the reference"))
    assert "other searched settings): dcgan. For these" in line and "vae" not in line
    set_plan("mine", "dcgan", 1.5)
    build_report("fashion", tmp_path / "mine", figures=False, reference=tmp_path / "reference")
    assert "Planned otherwise" not in (tmp_path / "mine" / "fashion" / "summary.md").read_text()
