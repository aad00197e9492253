"""The benchmarks of the new datasets (benchmarks/mnist.toml, stacked-mnist.toml, cifar10.toml,
celeba64.toml) end to end on small files written in the owners' exact formats (tests/formats.py):
``genzoo bench NAME --profile tiny --data-dir DIR --engine local --no-wandb --out OUT``, then
``genzoo report NAME``. Each record names the evaluator that scored it (and which weights), the data
was read from DIR, and the report's claims and literature sections are those the dataset declares.
Also: ``--data-dir`` and dataset options a loader does not declare are refused in one line, the
bench's data stays uint8, and the tools around a benchmark (the timing of a profile, the pilot, the
plain loop of ``genzoo speed``, the demo's class names) take the declarations and uint8 images."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import genzoo
from genzoo.bench import load_benchmark
from genzoo.cli import main
from genzoo.data import dataset_info

from formats import CIFAR_NAMES, write_celeba, write_cifar10, write_idx_dataset

BENCHMARKS = {"mnist": "mnist", "stacked-mnist": "stacked-mnist", "cifar10": "cifar10", "celeba64": "celeba64"}
# what each benchmark's report must hold, from the dataset's declaration (claims and literature)
IMAGE_CLAIMS = ["vae-fid-worse", "vae-less-sharp", "mlp-gan-noisy", "gan-drops-classes", "cgan-labels",
                "ae-prior-worse", "cgan-within-class-collapse"]
NO_CLASS_CLAIMS = ["vae-fid-worse", "vae-less-sharp", "mlp-gan-noisy", "ae-prior-worse"]
MODE_CLAIMS = ["gan-fewer-modes", "pack-more-modes", "gan-recall-below-precision"]
EXPECTED = {
    "mnist": (IMAGE_CLAIMS, "## MNIST FID", "9.8 ± 0.9"),
    "stacked-mnist": (MODE_CLAIMS, "## Stacked images: modes covered of 1000", "In protocol, yes"),
    "cifar10": (IMAGE_CLAIMS, "## CIFAR-10 FID", "| NS GAN (Lucic) | 58.5 |"),
    "celeba64": (NO_CLASS_CLAIMS, "## CelebA FID", "| WGAN-GP (Lucic) | 30.3 |"),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Small files of each dataset, each in the folder its benchmark's --data-dir names."""
    root = tmp_path_factory.mktemp("data")
    mnist = write_idx_dataset(root / "mnist", n_train=300, n_test=300, seed=1)       # flat: the files in the folder
    cifar = write_cifar10(root / "cifar", n_per_batch=60, n_test=300, seed=2)       # cifar-10-batches-py/ in it
    celeba = write_celeba(root / "celeba", n=300, seed=3, layout="flat")
    return {"mnist": mnist, "stacked-mnist": mnist, "cifar10": cifar, "celeba64": celeba}


@pytest.fixture(scope="module")
def benched(folders, tmp_path_factory) -> dict[str, tuple[Path, int, int]]:
    """Each new benchmark's tiny profile run, then reported: name -> (results folder, bench rc, report rc)."""
    out = tmp_path_factory.mktemp("out")
    done = {}
    for name in BENCHMARKS:
        rc = main(["bench", name, "--profile", "tiny", "--data-dir", str(folders[name]), "--engine", "local",
                   "--no-wandb", "--out", str(out), "-q"])
        rc_report = main(["report", name, "--results", str(out), "--reference", ""])
        done[name] = (out / name, rc, rc_report)
    return done


def _records(bench_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((bench_dir / "runs").glob("*/record.json"))}


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_tiny_profile_runs_end_to_end_on_files_in_the_real_formats(name, benched, folders):
    bench_dir, rc, rc_report = benched[name]
    assert (rc, rc_report) == (0, 0)
    records = _records(bench_dir)
    planned = load_benchmark(name).plan("tiny")
    assert sorted(records) == sorted(s.run_id for s in planned)
    info = dataset_info(dataset_of(name))
    for run_id, rec in records.items():
        assert rec["status"] == "ok", (run_id, rec.get("reason"))
        assert rec["dataset"] == info.name
        # the files came from the folder --data-dir named, and so did the evaluator's training data
        for split in ("train", "reference"):
            assert rec["data"][split]["how"] == "data_dir"
            assert Path(rec["data"][split]["folder"]).resolve().is_relative_to(folders[name].resolve())
        # every record names the evaluator that scored it, and its weights
        scoring = rec["scoring"]
        assert info.evaluator in scoring["evaluator"], scoring
        assert re.fullmatch(r"[0-9a-f]{64}", scoring["evaluator_sha256"])
        assert scoring.get("evaluator_per_channel", False) == (info.mode_count == "stacked")
        assert any(k in rec["metrics"] for k in ("fid", "kid", "modes_covered")), rec["metrics"]


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_report_has_the_claims_and_literature_the_dataset_declares(name, benched):
    bench_dir, _, _ = benched[name]
    claims, heading, row = EXPECTED[name]
    got = [c["id"] for c in json.loads((bench_dir / "claims.json").read_text())]
    assert got == claims
    literature = (bench_dir / "literature.md").read_text()
    assert heading in literature and row in literature
    summary = (bench_dir / "summary.md").read_text()
    assert f"- dataset: {dataset_of(name)}" in summary
    if dataset_info(dataset_of(name)).class_names == CIFAR_NAMES:   # the class legend from the declaration
        assert "; k: 0 airplane, 1 automobile" in summary


def test_within_class_scores_of_uint8_images(benched):
    """cGAN's per-class scores on CIFAR-10 (uint8 images) have the real images' bar beside them."""
    rec = _records(benched["cifar10"][0])["cgan-s0"]
    assert set(rec["per_class"]) == set(CIFAR_NAMES)
    entry = rec["per_class"]["cat"]
    assert 0 <= entry["accuracy"] <= 1 and {"recall", "coverage"} <= set(entry["real"])


def dataset_of(name: str) -> str:
    return load_benchmark(name).dataset


def test_bench_data_stays_uint8(folders):
    """The bench loads each split once, as the loader returns it (uint8), subsets included."""
    from genzoo.bench.data import Data
    from genzoo.bench.runspec import RunSettings

    data = Data(load_benchmark("cifar10"), folders["cifar10"])
    train = data.train(RunSettings(train_subset=100))
    assert train.x.dtype == torch.uint8 and tuple(train.x.shape) == (100, 3, 32, 32)
    assert data.reference(RunSettings()).x.dtype == torch.uint8


def test_data_dir_and_undeclared_options_are_refused_in_one_line(tmp_path, capsys, make_benchmark, folders):
    # generated data reads no files: --data-dir is refused before anything runs
    assert main(["bench", "modes-ring", "--profile", "tiny", "--data-dir", str(tmp_path), "--out",
                 str(tmp_path / "out"), "--no-wandb"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("genzoo bench: error: dataset 'ring' takes no option 'data_dir' (--data-dir); its options: "
                   "n, seed")
    assert not (tmp_path / "out").exists()
    # a dataset option the loader does not declare
    toml = make_benchmark("bad-option", "mnist", ("dcgan",), dataset_options={"size": 32})
    assert main(["bench", str(toml), "--profile", "tiny", "--data-dir", str(folders["mnist"]), "--out",
                 str(tmp_path / "out"), "--no-wandb", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dataset 'mnist' takes no option 'size'; its options: data_dir, download" in err[0]
    # a folder without the files: one line saying what was looked for, where
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["bench", "mnist", "--profile", "tiny", "--data-dir", str(empty), "--out", str(tmp_path / "out2"),
                 "--no-wandb", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(empty) in err[0] and "MNIST" in err[0]


def test_timing_projects_a_profile_on_generated_data():
    from genzoo.bench.timing import generated, recorded_step_seconds, time_profile, to_text

    x = generated("celeba64", 8)
    assert x.x.dtype == torch.uint8 and x.shape == (3, 64, 64)
    rows = time_profile("cifar10", "tiny", models=["dcgan"], steps=1, warmup=1, repeats=1, progress=False)
    assert [r["model"] for r in rows] == ["dcgan"] and rows[0]["steps"] == 10 and rows[0]["s_per_step"] > 0
    assert "training of 1 seed(s)" in to_text(rows, 1, 2)
    # the yardstick's committed records: training seconds per step of the fashion quick DCGAN runs
    assert 0.03 < recorded_step_seconds("fashion", "quick", "dcgan") < 0.06
    assert recorded_step_seconds("fashion", "tiny", "dcgan") is None


def test_pilot_refits_the_ae_prior_from_uint8_images(tmp_path, folders):
    from genzoo.bench.pilot import run_pilot

    rows = run_pilot("mnist", [3], profile="tiny", models=["ae"], out=tmp_path, data_dir=folders["mnist"])
    assert [r["step"] for r in rows["ae"]] == [3] and "fid" in rows["ae"][0]
    assert (tmp_path / "mnist.md").is_file()


def test_speed_plain_loop_on_uint8_images():
    from genzoo.bench.timing import generated
    from genzoo.speed import plain_fit

    data = generated("cifar10", 64)
    model = genzoo.get_model("dcgan", preset="tiny")
    assert plain_fit(model, data, steps=2, seed=0, device=torch.device("cpu")) == 2 * 32


def test_demo_names_the_classes_its_dataset_declares():
    from genzoo.bench.timing import generated
    from genzoo.demo.core import _reference, class_names

    model = genzoo.get_model("cgan", preset="tiny", max_steps=1)
    model.fit(generated("cifar10", 64), seed=0)
    assert class_names(model) == list(CIFAR_NAMES) and _reference(model) is None


def test_sweep_reads_its_data_from_data_dir(tmp_path, capsys, folders):
    """`genzoo sweep` trains its trials on the files --data-dir names (and refuses it for generated data)."""
    assert main(["sweep", "mnist", "--profile", "tiny", "--models", "dcgan", "--trials", "1", "--rerun-seeds", "1",
                 "--data-dir", str(folders["mnist"]), "--engine", "local", "--no-wandb", "--out", str(tmp_path),
                 "-q"]) == 0
    rec = json.loads((tmp_path / "sweeps" / "wide-s0" / "mnist" / "runs" / "dcgan-t000-s0" / "record.json").read_text())
    assert rec["status"] == "ok" and rec["data"]["train"]["how"] == "data_dir"
    assert Path(rec["data"]["train"]["folder"]).resolve() == folders["mnist"].resolve()
    capsys.readouterr()
    assert main(["sweep", "modes-ring", "--profile", "tiny", "--models", "gan", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "ring")]) == 2
    assert capsys.readouterr().err.strip() == ("genzoo sweep: error: dataset 'ring' takes no option 'data_dir' "
                                               "(--data-dir); its options: n, seed")


def test_figures_of_real_images_take_them_as_stored(tmp_path, folders):
    """A grid (and a samples file) of real uint8 images is the grid of the same images as floats."""
    from genzoo.bench import artifacts

    x = genzoo.data.load("cifar10", "test", data_dir=folders["cifar10"]).x[:16]
    assert x.dtype == torch.uint8
    assert torch.equal(artifacts.image_grid(x), artifacts.image_grid(genzoo.data.as_float(x)))
    artifacts.write_samples(tmp_path / "real.pt", x)
    assert torch.equal(artifacts.read_samples(tmp_path / "real.pt"), genzoo.data.as_float(x))


@pytest.mark.slow
def test_ray_engine_ships_the_uint8_data_and_its_folder(benched, folders, tmp_path):
    """--engine ray: the uint8 splits go through the object store as they are and each task scores
    with the evaluator of the files --data-dir names: the local engine's numbers (up to the threads)."""
    pytest.importorskip("ray")
    from genzoo.bench import run_benchmark
    from genzoo.bench.ray_engine import RayOptions

    result = run_benchmark("cifar10", profile="tiny", models=["dcgan"], out=tmp_path, device="cpu", engine="ray",
                           ray=RayOptions(address="local"), wandb=False, quiet=True, data_dir=folders["cifar10"])
    (rec,) = result.records
    local = _records(benched["cifar10"][0])["dcgan-s0"]
    assert rec.status == "ok" and rec.engine == "ray" and rec.data["train"]["how"] == "data_dir"
    assert rec.scoring["evaluator_sha256"] == local["scoring"]["evaluator_sha256"]
    assert rec.metrics.keys() == local["metrics"].keys()
    for k, v in local["metrics"].items():
        assert v is None or rec.metrics[k] == pytest.approx(v, rel=1e-2, abs=1e-3), k
