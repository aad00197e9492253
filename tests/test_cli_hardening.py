"""Hostile command lines and benchmark files: each is refused before any work starts (no training,
no Ray, no data loaded), with one line on stderr naming the input and what is accepted, and exit
code 2. And the parser is light: `genzoo --help` imports no torch, pandas, ray, wandb, ...

The commands run for real (``genzoo.cli.main`` in this process, or a subprocess where what is
imported matters); the benchmark files are written into a temporary folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import benchmark_toml

from genzoo.bench import load_benchmark
from genzoo.cli import main
from genzoo.errors import UserError
from genzoo.limits import MAX_SEED, MAX_SEEDS

HEAVY = ("torch", "wandb", "ray", "pandas", "matplotlib", "scipy", "gradio")

# the tiny ring benchmark (conftest's make_benchmark); RING_TOML: its text, for the variants made wrong
RING = dict(name="tiny-ring", dataset="ring", models=["gan", "wgan"], dataset_options={"n": 500})
RING_TOML = benchmark_toml(**RING)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def _refused(capsys, argv: list[str]) -> str:
    """Run ``genzoo ARGV``; it must exit with 2 and write one error line on stderr (argparse's own
    refusals: the usage first, then the line) and nothing on stdout. Returns that line."""
    try:
        rc = main(argv)
    except SystemExit as exc:              # argparse: a bad option value
        rc = exc.code
    captured = capsys.readouterr()
    assert rc == 2, (argv, rc, captured)
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines and "error:" in lines[-1] and not any("Traceback" in line for line in lines)
    if not lines[0].startswith("usage:"):
        assert len(lines) == 1, lines      # a refusal of genzoo's own: exactly one line
    return lines[-1]


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# --------------------------------------------------------------------------- --seeds and --models

@pytest.mark.parametrize("seeds, says", [
    ("0-99999999999", f"above {MAX_SEED:,}"),            # was a MemoryError building the list
    ("99999999999999999999999", f"above {MAX_SEED:,}"),  # was run, and recorded as a failed run
    ("9" * 5000, f"above {MAX_SEED:,}"),                 # more digits than int() takes
    (f"0-{MAX_SEEDS}", f"{MAX_SEEDS + 1:,} seeds asked for"),
    (f"0,1-{MAX_SEEDS}", f"{MAX_SEEDS + 1:,} seeds asked for"),
    ("0,", "empty item in --seeds"),
    ("0,,1", "empty item in --seeds"),
    ("-1", "bad seed '-1'"),
])
def test_seeds_beyond_the_limits_or_with_an_empty_item_are_refused(tmp_path, capsys, seeds, says, make_benchmark):
    toml = make_benchmark(**RING)
    line = _refused(capsys, ["bench", str(toml), "--seeds", seeds, "--dry-run", "--out", str(tmp_path / "out")])
    assert "argument --seeds" in line and says in line
    if "empty" not in says:
        assert f"0 to {MAX_SEED:,}" in line and f"at most {MAX_SEEDS:,}" in line     # the limits, stated
    assert len(line) < 300


def test_the_seed_limits_are_exact(tmp_path, capsys, make_benchmark):
    """MAX_SEEDS seeds up to MAX_SEED are planned; one seed more, or one above MAX_SEED, is refused."""
    toml = make_benchmark(**RING)
    argv = ["bench", str(toml), "--models", "gan", "--dry-run", "--out", str(tmp_path / "out"), "--seeds"]
    assert main([*argv, f"0-{MAX_SEEDS - 2},{MAX_SEED}"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + MAX_SEEDS and out[-1].startswith(f"tiny-ring/gan-s{MAX_SEED}: todo")
    assert f"seed '{MAX_SEED + 1}' is above" in _refused(capsys, [*argv, f"0,{MAX_SEED + 1}"])
    assert f"{MAX_SEEDS + 1:,} seeds asked for" in _refused(capsys, [*argv, f"0-{MAX_SEEDS - 1},{MAX_SEED}"])


def test_models_with_an_empty_item_are_refused(tmp_path, capsys, make_benchmark):
    toml = make_benchmark(**RING)
    line = _refused(capsys, ["bench", str(toml), "--models", "gan,", "--dry-run"])
    assert "argument --models" in line and "empty item in --models" in line
    line = _refused(capsys, ["sweep", str(toml), "--models", ",gan", "--trials", "1"])
    assert "empty item in --models" in line


# --------------------------------------------------------------------------- benchmark files

@pytest.mark.parametrize("table, says", [
    ("[profiles.tiny.models.nosuch]\nmax_steps = 1\n",
     r"\[profiles.tiny.models.nosuch\]: 'nosuch' is not one of the benchmark's models \['gan', 'wgan'\]; "
     r"genzoo has no model of that name"),
    ("[profiles.tiny.models.dcgan]\nmax_steps = 1\n",            # a registered model, not this benchmark's
     r"\[profiles.tiny.models.dcgan\]: 'dcgan' is not one of the benchmark's models \['gan', 'wgan'\]$"),
    ("[defaults.models.nosuch]\nmax_steps = 1\n", r"\[defaults.models.nosuch\]: 'nosuch' is not one"),
])
def test_tables_of_unknown_models_are_refused_naming_file_table_and_models(tmp_path, table, says):
    path = _write(tmp_path, "bad", RING_TOML + table)
    with pytest.raises(UserError, match=f"^{path}: {says}"):
        load_benchmark(path)


def test_only_as_a_string_says_it_must_be_a_list(tmp_path, capsys):
    path = _write(tmp_path, "bad", RING_TOML.replace("[profiles.tiny]", '[profiles.tiny]\nonly = "gan"'))
    line = _refused(capsys, ["bench", str(path), "--dry-run"])
    assert line == (f'genzoo bench: error: {path}: [profiles.tiny]: only must be a list of model names or '
                    f'"family:<family>" entries, e.g. only = ["gan"]; got only = \'gan\'')
    assert "belongs in a profile" not in line
    path = _write(tmp_path, "bad", RING_TOML.replace("[profiles.tiny]", '[defaults]\nonly = ["gan"]\n[profiles.tiny]'))
    with pytest.raises(UserError, match=r"\[defaults\]: only = .* belongs in a profile"):
        load_benchmark(path)


@pytest.mark.parametrize("where, options", [
    ("[benchmark]", '"n=500"'), ("[benchmark]", "{ n = [500] }"), ("[benchmark]", "{ n = { a = 1 } }"),
    ("[profiles.tiny]", "5"), ("[profiles.tiny]", '{ n = [1, 2] }'),
])
def test_dataset_options_must_be_a_table_of_simple_values(tmp_path, where, options):
    text = RING_TOML.replace("dataset_options = { n = 500 }\n", "")
    text = text.replace(where, f"{where}\ndataset_options = {options}", 1)
    with pytest.raises(UserError, match=rf"{where.replace('[', '.').replace(']', '.')}: dataset_options must be a "
                                        r"table of simple values"):
        load_benchmark(_write(tmp_path, "bad", text))
    assert load_benchmark(_write(tmp_path, "ok", RING_TOML.replace("{ n = 500 }", '{ n = 500, seed = 3 }')))


@pytest.mark.parametrize("seeds", [f"[{MAX_SEED + 1}]", "[-1]", str(list(range(MAX_SEEDS + 1)))])
def test_seeds_in_a_profile_beyond_the_limits_are_refused(tmp_path, seeds):
    path = _write(tmp_path, "bad", RING_TOML.replace("seeds = [0]", f"seeds = {seeds}"))
    with pytest.raises(UserError, match=rf"\[profiles.tiny\]: seeds = .* is not valid \(training seeds, at most "
                                        rf"{MAX_SEEDS:,}, each from 0 to {MAX_SEED:,}"):
        load_benchmark(path)


def test_a_sweep_table_with_a_negative_seed_is_refused(tmp_path):
    path = _write(tmp_path, "bad", RING_TOML + '[sweeps.s]\nprofile = "tiny"\nseed = -1\n')
    with pytest.raises(UserError, match=rf"\[sweeps.s\]: seed must be an integer from 0 to {MAX_SEED:,}, got -1"):
        load_benchmark(path)


# --------------------------------------------------------------------------- genzoo sweep

def test_sweep_refuses_a_metric_the_trials_are_not_scored_with_before_training(tmp_path, capsys, make_benchmark):
    toml = make_benchmark(**RING)
    out = tmp_path / "out"
    line = _refused(capsys, ["sweep", str(toml), "--profile", "tiny", "--models", "gan", "--trials", "1",
                             "--rerun-seeds", "1", "--metric", "nosuch", "--no-wandb", "--device", "cpu",
                             "--out", str(out)])
    assert line == ("genzoo sweep: error: --metric 'nosuch' is not a metric the trials are scored with; choose "
                    "from modes_covered, high_quality, precision, recall (the profile's metrics, else the defaults "
                    "for ring)")
    assert not out.exists()                                    # nothing trained, nothing written


def test_sweep_metric_check_follows_the_profiles_metrics_and_the_expansions(tmp_path):
    from genzoo.sweep.run import check_metric, trial_specs

    fashion = RING_TOML.replace('dataset = "ring"', 'dataset = "fashion-mnist"').replace(
        "dataset_options = { n = 500 }\n", "")
    bench = load_benchmark(_write(tmp_path, "fashion", fashion))
    specs = trial_specs(bench, "tiny", ["gan", "wgan"], 2, level="wide", seed=0)
    for metric in ("fid", "kid_std", "is_std", "class_frac_9", "fid_normal_prior"):   # the defaults, expanded
        check_metric(metric, bench.dataset, specs)
    fid_kid = fashion.replace("images = 0", 'images = 0\nmetrics = ["fid", "kid"]')
    bench = load_benchmark(_write(tmp_path, "fid", fid_kid))
    specs = trial_specs(bench, "tiny", ["gan"], 2, level="wide", seed=0)
    check_metric("kid_std", bench.dataset, specs)
    with pytest.raises(UserError, match="--metric 'precision' .* choose from fid, kid, kid_std "):
        check_metric("precision", bench.dataset, specs)


@pytest.mark.parametrize("extra", [["--seed=-1"], ["--trials", "2", "--seed=-1"], ["--seed", "1e3"],
                                   ["--seed", str(MAX_SEED + 1)]])
def test_sweep_seed_out_of_range_is_refused_naming_the_option(tmp_path, capsys, extra, make_benchmark):
    toml = make_benchmark(**RING)
    line = _refused(capsys, ["sweep", str(toml), "--models", "gan", *extra, "--out", str(tmp_path / "out")])
    assert f"argument --seed: a seed must be an integer from 0 to {MAX_SEED:,}, got" in line


def test_score_seed_out_of_range_is_refused_naming_the_option(tmp_path, capsys):
    line = _refused(capsys, ["score", str(tmp_path / "samples.pt"), "--reference", "ring", "--seed", "-1"])
    assert f"argument --seed: a seed must be an integer from 0 to {MAX_SEED:,}, got -1" in line


# --------------------------------------------------------------------------- Ray's options

@pytest.mark.parametrize("argv", [
    ["bench", "{toml}", "--address", "10.0.0.1:6379", "--dry-run"],
    ["bench", "{toml}", "--engine", "local", "--address", "10.0.0.1:6379", "--dry-run"],
    ["bench", "--list", "--address", "10.0.0.1:6379"],
    ["sweep", "--show-space", "gan", "--address", "10.0.0.1:6379"],
    ["sweep", "{toml}", "--models", "gan", "--engine", "local", "--address", "10.0.0.1:6379", "--out", "{out}"],
])
def test_address_without_the_ray_engine_is_refused_by_bench_and_sweep(tmp_path, capsys, argv, make_benchmark):
    toml = make_benchmark(**RING)
    argv = [a.format(toml=toml, out=tmp_path / "out") for a in argv]
    line = _refused(capsys, argv)
    assert f"genzoo {argv[0]}: error: --address only applies with --engine ray" in line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the existing refusals

def test_unknown_profile_report_and_score_input_are_one_line(tmp_path, capsys, make_benchmark):
    toml = make_benchmark(**RING)
    line = _refused(capsys, ["bench", str(toml), "--profile", "nosuch", "--dry-run"])   # nothing printed first
    assert "has no profile 'nosuch'; choose one of ['tiny']" in line
    line = _refused(capsys, ["report", "nosuch", "--results", str(tmp_path), "--no-figures"])
    assert "nosuch" in line
    line = _refused(capsys, ["score", str(tmp_path / "missing"), "--reference", "ring"])
    assert f"{tmp_path / 'missing'} does not exist" in line
    line = _refused(capsys, ["bench", str(toml), "--engine", "dask"])
    assert "argument --engine: invalid choice: 'dask'" in line


# --------------------------------------------------------------------------- a light parser

def test_the_parser_imports_none_of_the_heavy_modules():
    """``genzoo --help`` builds every command's parser: none of them may import torch & co."""
    out = _python("import sys; import genzoo.cli as c; c.build_parser(); "
                  f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert out == "[]"


def test_import_genzoo_is_light_and_its_api_loads_on_use():
    out = _python(
        "import sys, argparse\n"
        "import genzoo, genzoo.bench.cli, genzoo.sweep.cli, genzoo.speed\n"
        "sub = argparse.ArgumentParser().add_subparsers()\n"
        "genzoo.bench.cli.add_parser(sub); genzoo.bench.cli.add_wandb_parser(sub)\n"
        "genzoo.sweep.cli.add_parser(sub); genzoo.speed.add_parser(sub)\n"
        f"light = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "assert set(genzoo.__all__) <= set(dir(genzoo))\n"
        "model = genzoo.get_model('gan', preset='tiny')\n"
        "from genzoo import fit_seeds, list_models, load, register_model, DivergenceError, NotFittedError, UserError\n"
        "print(light, type(model).__name__, len(list_models()), callable(genzoo.metrics.score), genzoo.__version__)\n")
    import genzoo

    assert out == f"[] GAN {len(genzoo.list_models())} True {genzoo.__version__}"


@pytest.mark.parametrize("command", [[], ["bench"], ["score"], ["report"], ["speed"], ["sweep"], ["wandb"], ["demo"]])
def test_help_is_plain_text(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "usage: genzoo" in out
    assert "``" not in out and ":func:" not in out and ":mod:" not in out
