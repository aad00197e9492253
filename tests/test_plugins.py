"""Your own model as a plug-in (issue #25 item 7): a model in another installed package joins genzoo
through the ``genzoo.models`` entry points.

The test writes a tiny REAL package (a pyproject.toml declaring three entry points, a module
defining a GAN with the hinge loss by subclassing genzoo's public classes), installs it with pip
into a folder of its own, and runs genzoo in subprocesses with that folder on PYTHONPATH (the
registry of this test process is left as it is): ``list_models`` lists the plug-in, a benchmark of
``models = ["all"]`` trains, scores and saves it, and a fresh process loads the saved model, the
plug-in found again on the registry's first read. A second entry point names a module that
registers its model itself; of the three others, one fails to import, one takes a built-in model's
name and one names a function: each is skipped with one warning line naming it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "genzoo-hinge"
version = "0.1.0"

[project.entry-points."genzoo.models"]
hinge-gan = "genzoo_hinge:HingeGAN"
hinge-mod = "genzoo_hinge.registered"
broken-gan = "genzoo_hinge.broken:BrokenGAN"
gan = "genzoo_hinge:HingeGAN"
not-a-model = "genzoo_hinge:hinge_d_loss"

[tool.setuptools]
packages = ["genzoo_hinge"]
"""

MODULE = '''\
"""The MLP GAN with the hinge loss (Lim & Ye 2017; Miyato et al. 2018), as a genzoo plug-in."""

from dataclasses import dataclass

import torch.nn.functional as F

from genzoo.models import GAN
from genzoo.models.losses import GANLosses, mean_output_diagnostics


def hinge_d_loss(real_logits, fake_logits):
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits):
    return -fake_logits.mean()


@dataclass(frozen=True)
class HingeGANConfig(GAN.Config):
    """GAN's config; its ``loss`` is not read (the hinge loss is the model)."""


class HingeGAN(GAN):
    """genzoo's MLP GAN, trained with the hinge loss."""

    Config = HingeGANConfig
    paper = "Lim & Ye 2017"
    published_names = ()

    def select_losses(self):
        return GANLosses(hinge_d_loss, hinge_g_loss, mean_output_diagnostics)
'''

BROKEN = "import a_module_nobody_installed  # noqa: F401\n"

REGISTERED = '''\
"""A module that registers its model itself; the entry point names the module."""

import genzoo

from . import HingeGAN


@genzoo.register_model("hinge-mod")
class HingeMod(HingeGAN):
    """HingeGAN again, registered by its own module."""
'''

BENCHMARK = """\
[benchmark]
name = "plugged"
dataset = "ring"
models = ["all"]

[profiles.tiny]
only = ["hinge-gan"]
seeds = [0]
preset = "tiny"
dataset_options = { n = 1000 }
reference_subset = 500
n_samples = 200
max_steps = 5
images = 0
"""


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    """The plug-in package built and installed (pip, no network) into a folder of its own."""
    src = tmp_path_factory.mktemp("genzoo-hinge")
    (src / "pyproject.toml").write_text(PYPROJECT)
    pkg = src / "genzoo_hinge"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(MODULE)
    (pkg / "broken.py").write_text(BROKEN)
    (pkg / "registered.py").write_text(REGISTERED)
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--disable-pip-version-check", "-q", "--target", str(target), str(src)],
                   check=True, capture_output=True, text=True, timeout=300)
    assert list(target.glob("genzoo_hinge-0.1.0.dist-info/entry_points.txt"))
    return target


def run(plugin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python ARGS`` with the plug-in's folder on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")]),
           "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


LIST = textwrap.dedent("""\
    import json, sys
    import genzoo.models
    imported_early = "genzoo_hinge" in sys.modules
    import genzoo
    names = genzoo.list_models()
    cls = genzoo.models.get_model_class("hinge-gan")
    print(json.dumps({"imported_early": imported_early, "names": names,
                      "gans": genzoo.models.list_models(family="gan"),
                      "points": genzoo.models.list_models(data_kind="points"),
                      "family": cls.family, "name": cls.name, "module": cls.__module__,
                      "again": genzoo.models.load_plugins(),
                      "gan": genzoo.models.get_model_class("gan").__module__}))
""")


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "plug-in model" in line]


def test_a_plugin_model_is_listed_and_the_bad_ones_are_skipped_in_one_line(plugin_dir, tmp_path):
    done = run(plugin_dir, "-c", LIST, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert not got["imported_early"]                    # loaded lazily, on the first read of the registry
    assert {"hinge-gan", "hinge-mod"} <= set(got["names"]) and not {"broken-gan", "not-a-model"} & set(got["names"])
    assert "hinge-gan" in got["gans"] and "hinge-gan" in got["points"]
    assert (got["family"], got["name"], got["module"]) == ("gan", "hinge-gan", "genzoo_hinge")
    assert got["again"] == [] and got["gan"] == "genzoo.models.gan"       # once; the built-in gan stays
    lines = _warnings(done.stderr)
    assert len(lines) == 3 and len(done.stderr.strip().splitlines()) == 3, done.stderr
    broken = next(line for line in lines if "'broken-gan'" in line)
    assert "genzoo_hinge.broken:BrokenGAN" in broken and "genzoo-hinge" in broken
    assert "ModuleNotFoundError: No module named 'a_module_nobody_installed'" in broken
    clash = next(line for line in lines if "'gan'" in line)
    assert "the name 'gan' is genzoo's own model: rename the entry point" in clash
    stray = next(line for line in lines if "'not-a-model'" in line)
    assert "it names hinge_d_loss, not a genzoo model class" in stray


def test_a_benchmark_of_all_models_trains_scores_and_saves_the_plugin(plugin_dir, tmp_path):
    toml = tmp_path / "plugged.toml"
    toml.write_text(BENCHMARK)
    out = tmp_path / "out"
    done = run(plugin_dir, "-m", "genzoo", "bench", str(toml), "--profile", "tiny", "--engine", "local",
               "--no-wandb", "--device", "cpu", "-q", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = out / "plugged" / "runs"
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == ["hinge-gan-s0"]     # only it: "all" + only
    record = json.loads((runs / "hinge-gan-s0" / "record.json").read_text())
    assert record["status"] == "ok" and record["model"] == "hinge-gan", record.get("reason")
    assert record["metrics"] and all(v is not None for v in record["metrics"].values())
    assert len(_warnings(done.stderr)) == 3                              # once per process

    load = textwrap.dedent(f"""\
        import json, genzoo
        m = genzoo.load({str(runs / "hinge-gan-s0" / "checkpoint")!r})
        print(json.dumps({{"cls": type(m).__name__, "module": type(m).__module__,
                          "shape": list(m.sample(3, seed=0).shape), "d_loss": m.d_loss.__name__}}))
    """)
    done = run(plugin_dir, "-c", load, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"cls": "HingeGAN", "module": "genzoo_hinge", "shape": [3, 2],
                                       "d_loss": "hinge_d_loss"}
