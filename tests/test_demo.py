"""``genzoo demo``: the sampler-only checkpoints, the page's functions on tiny real models, the
command line's errors, and (at the end of this file) the page in a real browser."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

import genzoo
from genzoo.bench import run_benchmark
from genzoo.bench.artifacts import SAMPLER_DIR, save_checkpoint, write_json
from genzoo.data.toy import ring_means
from genzoo.demo import core
from genzoo.errors import CheckpointError, UserError
from genzoo.models import get_model, list_models


REPO = Path(__file__).resolve().parents[1]
CSS = "css selector"            # selenium's By.CSS_SELECTOR
SAMPLER_BUDGET_MB = 16          # per sampler/ folder: the README's budget
RESULTS_BUDGET_MB = 100         # all sampler/ folders under results/

# the tiny ring benchmark the results fixture runs (conftest's make_benchmark)
RING = dict(name="tiny-ring", dataset="ring", models=["gan", "cgan"], dataset_options={"n": 2000},
            reference_subset=1000, n_samples=500, max_steps=15, images=1)


def _fit(name: str, data, steps: int = 3):
    return get_model(name, "tiny", max_steps=steps).fit(data, seed=0, device="cpu")


def _data_for(name: str, bars_data, ring_data):
    return ring_data if "points" in genzoo.models.get_model_class(name).data_kinds else bars_data


@pytest.fixture(scope="module")
def results(tmp_path_factory, make_benchmark, bars_data):
    """A results folder as the benchmark leaves it: the tiny ring benchmark run by the runner
    (gan, cgan: record.json, checkpoint/, sampler/), and image runs of the AE, VAE, DCGAN and
    cGAN fitted for a few steps on bars, saved the same way with a record of made-up metrics."""
    root = tmp_path_factory.mktemp("demo") / "results"
    result = run_benchmark(make_benchmark(**RING), profile="tiny", out=root, wandb=False, quiet=True)
    assert [r.status for r in result.records] == ["ok", "ok"]
    for name in ("ae", "vae", "dcgan", "cgan"):
        run = root / "bars" / "runs" / f"{name}-s0"
        model = _fit(name, bars_data)
        save_checkpoint(model, run / "checkpoint")
        save_checkpoint(model, run / SAMPLER_DIR, sampler_only=True)
        write_json(run / "record.json", {"model": name, "seed": 0, "status": "ok", "profile": "tiny",
                                         "metrics": {"fid": 12.5, "precision": 0.25, "fid_normal_prior": 40.0}})
    return root


# --- the sampler-only checkpoint ------------------------------------------------------------------

@pytest.mark.parametrize("name", list_models())
def test_a_sampler_checkpoint_samples_exactly_as_the_model_and_is_smaller(name, tmp_path, bars_data, ring_data):
    model = _fit(name, _data_for(name, bars_data, ring_data))
    model.save_pretrained(tmp_path / "full")
    model.save_pretrained(tmp_path / "sampler", sampler_only=True)
    back = genzoo.models.load(tmp_path / "sampler")           # rebuilt through the registry
    assert type(back) is type(model) and back.is_sampler_only and not model.is_sampler_only
    assert set(back.nets_) == set(model.sampling_nets()) < set(model.nets_)      # G_ema where G is averaged
    labels = torch.arange(6) % model.num_classes_ if model.conditional else None
    assert torch.equal(back.sample(6, labels, seed=7), model.sample(6, labels, seed=7))
    assert (tmp_path / "sampler" / "model.safetensors").stat().st_size < (tmp_path / "full" / "model.safetensors").stat().st_size
    # saved again, it stays sampler-only; fitted again, it gets all its networks back
    back.save_pretrained(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "config.json").read_text())["sampler_only"] is True
    assert torch.equal(genzoo.models.load(tmp_path / "again").sample(6, labels, seed=7), model.sample(6, labels, seed=7))


def test_a_sampler_only_autoencoder_says_it_cannot_encode(tmp_path, bars_data):
    _fit("vae", bars_data).save_pretrained(tmp_path / "s", sampler_only=True)
    vae = genzoo.models.load(tmp_path / "s")
    with pytest.raises(ValueError, match="sampler-only checkpoint.*cannot encode"):
        vae.encode(bars_data.x[:2])
    vae.fit(bars_data.subset(64, seed=0), device="cpu")        # a fit builds every network again
    assert vae.encode(bars_data.x[:2]).shape == (2, vae.config.latent_dim)


@pytest.mark.parametrize("value, message", [(False, "do not match the networks"),   # G alone, declared complete
                                            ("yes", "'sampler_only' must be true or false, got 'yes'")])
def test_a_wrong_sampler_only_flag_is_a_checkpoint_error(value, message, tmp_path, bars_data):
    _fit("dcgan", bars_data).save_pretrained(tmp_path / "s", sampler_only=True)
    cfg = json.loads((tmp_path / "s" / "config.json").read_text())
    cfg["sampler_only"] = value
    (tmp_path / "s" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=message):
        genzoo.models.load(tmp_path / "s")


def test_the_runner_writes_the_sampler_beside_the_checkpoint(results):
    run = results / "tiny-ring" / "runs" / "cgan-s0"
    sampler, full = genzoo.models.load(run / SAMPLER_DIR), genzoo.models.load(run / "checkpoint")
    assert set(sampler.nets_) == {"G", "g_embed"} and "D" in full.nets_
    labels = torch.arange(8) % 8
    assert torch.equal(sampler.sample(8, labels, seed=3), full.sample(8, labels, seed=3))


def test_export_writes_samplers_from_full_checkpoints(results, tmp_path, capsys):
    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    for d in copy.rglob(SAMPLER_DIR):
        shutil.rmtree(d)
    from genzoo.cli import main

    assert main(["demo", "--export", str(copy / "bars")]) == 0
    assert "4 sampler folders written" in capsys.readouterr().out
    written = core.export_samplers([copy])
    assert sorted(p.parent.name for p, _ in written) == ["ae-s0", "cgan-s0", "cgan-s0", "dcgan-s0", "gan-s0", "vae-s0"]
    for path, size in written:
        assert size == core.folder_bytes(path)
        assert torch.equal(genzoo.models.load(path).sample(4, seed=1), genzoo.models.load(path.parent / "checkpoint").sample(4, seed=1))
    with pytest.raises(UserError, match="holds no full checkpoint"):
        core.export_samplers([tmp_path / "results" / "tiny-ring" / "runs" / "gan-s0" / SAMPLER_DIR])


def test_samplers_of_seed_0_are_committed_within_the_readme_budget():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: what is committed cannot be told")
    import subprocess

    def ignored(path: str) -> bool:
        return subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", path]).returncode == 0

    assert not ignored(f"results/fashion/runs/gan-s0/{SAMPLER_DIR}/model.safetensors")
    assert ignored(f"results/fashion/runs/gan-s1/{SAMPLER_DIR}/model.safetensors")
    assert ignored(f"results/fashion/runs/gan-s10/{SAMPLER_DIR}/model.safetensors")
    assert ignored("results/fashion/runs/gan-s0/checkpoint/model.safetensors")
    sizes = {d: core.folder_bytes(d) / 1e6 for d in (REPO / "results").rglob(f"runs/*-s0/{SAMPLER_DIR}")
             if not ignored(f"{d.relative_to(REPO)}/model.safetensors")}   # a sweep's are not committed
    assert all(mb <= SAMPLER_BUDGET_MB for mb in sizes.values()), sizes
    assert sum(sizes.values()) <= RESULTS_BUDGET_MB
    readme = (REPO / "README.md").read_text()
    assert f"{SAMPLER_BUDGET_MB} MB" in readme and f"{RESULTS_BUDGET_MB} MB" in readme


# --- finding the models -----------------------------------------------------------------------------

def test_discover_lists_every_run_with_its_sampler_and_record(results):
    found = core.discover([results])
    labels = [m.label for m in found.models]
    assert labels == ["bars/ae-s0", "bars/cgan-s0", "bars/dcgan-s0", "bars/vae-s0", "tiny-ring/cgan-s0", "tiny-ring/gan-s0"]
    assert all(m.dir.name == SAMPLER_DIR and m.record().status == "ok" for m in found.models)
    assert found.notes == []


def test_discover_takes_run_model_and_checkpoint_folders(results, tmp_path):
    run = results / "bars" / "runs" / "vae-s0"
    assert [m.label for m in core.discover([run]).models] == ["vae-s0"]
    one = core.discover([run / "checkpoint"]).models[0]
    assert one.dir == run / "checkpoint" and one.record().model == "vae" and one.label == "vae-s0"
    # a folder written by save_pretrained, alone: listed, without a record
    shutil.copytree(run / SAMPLER_DIR, tmp_path / "my-vae")
    alone = core.discover([tmp_path]).models
    assert [(m.label, m.record()) for m in alone] == [("my-vae", None)]
    # a run without sampler/ is listed with its checkpoint/; two folders: labels say which
    shutil.copytree(results / "bars", tmp_path / "two" / "bars")
    shutil.rmtree(tmp_path / "two" / "bars" / "runs" / "ae-s0" / SAMPLER_DIR)
    both = core.discover([tmp_path / "two", tmp_path / "my-vae"]).models
    assert [m.label for m in both] == ["two/bars/ae-s0", "two/bars/cgan-s0", "two/bars/dcgan-s0", "two/bars/vae-s0",
                                       "my-vae"]                   # in the order of the folders given
    assert both[0].dir.name == "checkpoint"


def test_runs_without_models_are_one_line_notes_or_errors(results, tmp_path):
    paper = tmp_path / "paper" / "fashion" / "runs"
    for run in ("gan-s0", "vae-s0"):
        write_json(paper / run / "record.json", {"model": run[:3], "status": "ok"})
    with pytest.raises(UserError, match=r"has 2 run records but no saved models .*genzoo bench.*needs a GPU") as err:
        core.discover([tmp_path / "paper"])
    assert "\n" not in str(err.value)
    # beside benchmarks with models: a note on the one without; a seed without its model is no news
    shutil.copytree(results / "bars", tmp_path / "paper" / "bars")
    write_json(tmp_path / "paper" / "bars" / "runs" / "vae-s1" / "record.json", {"model": "vae", "status": "ok"})
    found = core.discover([tmp_path / "paper"])
    assert len(found.models) == 4
    assert found.notes == [f"{tmp_path / 'paper' / 'fashion'}: 2 run records but no saved models, not listed; "
                           f"{core.HOW_TO_GET_MODELS}"]
    with pytest.raises(UserError, match="no such folder"):
        core.discover([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no genzoo models"):
        core.discover([tmp_path / "empty"])


def test_a_corrupt_checkpoint_is_one_line_when_loaded(results, tmp_path):
    shutil.copytree(results / "bars" / "runs" / "dcgan-s0", tmp_path / "dcgan-s0")
    weights = tmp_path / "dcgan-s0" / SAMPLER_DIR / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    saved = core.discover([tmp_path]).models[0]                # listed: the page says what is wrong
    with pytest.raises(CheckpointError, match="truncated or not a safetensors file") as err:
        core.load_model(saved)
    assert "\n" not in str(err.value)


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path, capsys):
    from genzoo.cli import main

    import socket

    write_json(tmp_path / "paper" / "runs" / "gan-s0" / "record.json", {"model": "gan", "status": "ok"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        for args, message in ([str(tmp_path / "nowhere")], "no such folder"), \
                             ([str(tmp_path / "paper")], "no saved models"), \
                             (["--export", str(tmp_path / "paper")], "holds no full checkpoint"), \
                             ([str(tmp_path), "--port", "70000"], "--port must be"), \
                             ([str(tmp_path), "--port", str(taken.getsockname()[1])], "is taken"):
            assert main(["demo", *args]) == 2
            err = capsys.readouterr().err
            assert message in err and err.count("\n") == 1 and err.startswith("genzoo demo: error:")


def test_port_0_takes_a_free_port_and_holds_it_until_the_page_is_served():
    """The demo listens before it announces: the port announced (any free one for --port 0) is
    held from the check on, so no other process can take it before the page is served on it."""
    with core.listen(0) as sock:
        port = sock.getsockname()[1]
        assert port > 0
        with pytest.raises(UserError, match=rf"port {port} on 127\.0\.0\.1 is taken"):
            core.listen(port)
    for bad in (-1, 65536):
        with pytest.raises(UserError, match="--port must be in 1..65535"):
            core.listen(bad)


# --- what the page draws ----------------------------------------------------------------------------

def _loaded(results, label):
    saved = {m.label: m for m in core.discover([results]).models}[label]
    return saved, core.load_model(saved)


def test_samples_are_reproduced_by_their_seed(results):
    _, vae = _loaded(results, "bars/vae-s0")
    a, b = core.sample_picture(vae, 5), core.sample_picture(vae, 5)
    assert a.dtype == np.uint8 and a.shape == (3 * 242, 3 * 242, 3)   # 8 x 8 images of 28 + 2 px, 3x larger
    assert np.array_equal(a, b) and not np.array_equal(a, core.sample_picture(vae, 6))
    x, _ = core.samples(vae, 5)
    assert torch.equal(x, vae.sample(64, seed=5))
    for bad in (-1, 1.5, "x", None, float("inf")):
        with pytest.raises(UserError, match="seed must be a whole number"):
            core.sample_picture(vae, bad)


def test_the_class_picker_draws_a_row_per_class_or_one_class(results):
    _, cgan = _loaded(results, "bars/cgan-s0")
    assert core.class_choices(cgan) == [core.ALL_CLASSES, "0", "1"]
    labels, columns = core.labels_for(cgan, 64, core.ALL_CLASSES)
    assert labels.tolist() == [0] * 8 + [1] * 8 and columns == 8
    one, _ = core.labels_for(cgan, 64, "1")
    assert one.tolist() == [1] * 64
    x, _ = core.samples(cgan, 3, "1")
    assert torch.equal(x, cgan.sample(64, one, seed=3))
    assert not np.array_equal(core.sample_picture(cgan, 3, "0"), core.sample_picture(cgan, 3, "1"))
    with pytest.raises(UserError, match="unknown class"):
        core.labels_for(cgan, 64, "2")
    _, dcgan = _loaded(results, "bars/dcgan-s0")
    assert core.class_choices(dcgan) == [] and core.labels_for(dcgan, 64, None) == (None, core.GRID_COLUMNS)
    _, ring_cgan = _loaded(results, "tiny-ring/cgan-s0")
    assert core.class_names(ring_cgan) == [f"mode {i}" for i in range(8)]
    assert core.class_names(cgan) == ["0", "1"]
    assert "Its classes, a row each from the top: 0, 1." in core.describe(core.discover([results]).models[1], cgan)


def test_ring_samples_are_drawn_over_the_true_modes(results):
    _, gan = _loaded(results, "tiny-ring/gan-s0")
    reference = core._reference(gan)
    assert torch.equal(reference.meta["means"], ring_means())
    picture = core.sample_picture(gan, 0)
    assert picture.shape == (400, 400, 3) and picture.dtype == np.uint8
    assert np.array_equal(picture, core.sample_picture(gan, 0))
    _, vae = _loaded(results, "bars/vae-s0")
    assert core._reference(vae) is None


def test_the_interpolation_runs_between_the_two_seeds_samples(results):
    for label in ("bars/ae-s0", "bars/dcgan-s0", "tiny-ring/gan-s0"):
        _, model = _loaded(results, label)
        x = core.interpolation(model, 11, 12, steps=5)
        assert len(x) == 5
        assert torch.allclose(x[0], model.sample(1, seed=11)[0], atol=1e-6)
        assert torch.allclose(x[-1], model.sample(1, seed=12)[0], atol=1e-6)
        assert core.interpolation_picture(model, 11, 12, 5).dtype == np.uint8
    _, cgan = _loaded(results, "bars/cgan-s0")
    x = core.interpolation(cgan, 11, 12, steps=3, choice="1")
    assert torch.allclose(x[0], cgan.sample(1, torch.tensor([1]), seed=11)[0], atol=1e-6)
    with pytest.raises(UserError, match="at least 2 steps"):
        core.interpolation(cgan, 1, 2, steps=1)


def test_slerp_keeps_the_ends_and_the_norms_between_them():
    a, b = torch.randn(1, 16, generator=torch.Generator().manual_seed(0)), torch.randn(1, 16, generator=torch.Generator().manual_seed(1))
    z = core.slerp(a, b, 9)
    assert torch.equal(z[0], a[0]) and torch.equal(z[-1], b[0])
    lo, hi = sorted((a.norm().item(), b.norm().item()))
    assert all(lo - 1e-4 <= n <= hi + 1e-4 for n in z.norm(dim=1).tolist())


def test_decode_of_a_seeds_code_is_that_seeds_sample(results):
    for label in ("bars/ae-s0", "bars/vae-s0", "tiny-ring/gan-s0"):
        _, model = _loaded(results, label)
        assert torch.equal(model.decode(core.latent(model, 9)), model.sample(1, seed=9))
    d = model.config.latent_dim
    with pytest.raises(ValueError, match=rf"z must be a tensor of shape \(n, {d}\)"):
        model.decode(torch.zeros(2, d + 1))


def test_side_by_side_models_share_the_seed_and_show_their_metrics(results):
    saved, vae = _loaded(results, "bars/vae-s0")
    text = core.describe(saved, vae)
    assert "`vae` (autoencoder)" in text and "(sampler only)" in text
    assert "| fid | 12.5 | 40 |" in text and "| precision | 0.25 |  |" in text
    gan_saved, gan = _loaded(results, "tiny-ring/gan-s0")
    record = json.loads(gan_saved.record_path.read_text())
    assert f"{record['metrics']['modes_covered']:.4g}" in core.describe(gan_saved, gan)
    bare = core.SavedModel("x", saved.dir, None)
    assert "no metrics" in core.describe(bare, vae)


def test_without_gradio_the_command_says_how_to_get_it(results, capsys, monkeypatch):
    from genzoo.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)              # what an install without the extra has
    assert main(["demo", str(results), "--port", "0"]) == 2
    assert capsys.readouterr().err == "genzoo demo: error: genzoo demo needs Gradio: pip install 'genzoo[demo]'\n"


def test_the_page_is_built_and_reports_bad_models_in_one_line(results, tmp_path):
    pytest.importorskip("gradio", reason="gradio is not installed (pip install 'genzoo[demo]')")
    from genzoo.demo import app

    shutil.copytree(results / "bars" / "runs" / "dcgan-s0", tmp_path / "dcgan-s0")
    (tmp_path / "dcgan-s0" / SAMPLER_DIR / "config.json").write_text("{not json")
    models = app.Models(core.discover([results, tmp_path]))
    with pytest.raises(UserError, match="config.json is not valid JSON"):
        models.get(f"{tmp_path.name}/dcgan-s0")
    saved, model = models.get("results/bars/vae-s0")
    assert models.get("results/bars/vae-s0")[1] is model                  # loaded once
    assert app.build(core.discover([results])) is not None


# --- the page in a real browser -----------------------------------------------------------------------

def _need(ok: bool, reason: str) -> None:
    """Skip without the browser (CI installs it: .ci/run; there, its absence is a failure)."""
    if not ok:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


@pytest.fixture
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    _need(webdriver is not None, "selenium is not installed (pip install '.[test]')")
    _need(importlib.util.find_spec("gradio") is not None, "gradio is not installed (pip install '.[test]')")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    _need(bool(chromium and driver_path), "no headless browser: install Debian's chromium and chromium-driver "
                                          "(apt-get install chromium chromium-driver; .ci/run does)")
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(arg)
    options.binary_location = chromium
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


ANNOUNCED = re.compile(r"^genzoo demo: .* on (http://127\.0\.0\.1:(\d+))$", re.M)


@pytest.fixture
def server(results, tmp_path):
    """`genzoo demo RESULTS BROKEN --port 0` in its own process: the server binds a free loopback
    port itself and announces it (no port picked here and bound later, which another process could
    take in between); BROKEN holds a model whose weights are truncated."""
    from selenium.webdriver.support.ui import WebDriverWait

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(genzoo.__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")]))
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    shutil.copytree(results / "bars" / "runs" / "dcgan-s0" / SAMPLER_DIR, tmp_path / "broken" / "dcgan")
    weights = tmp_path / "broken" / "dcgan" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:64])
    proc = subprocess.Popen([sys.executable, "-m", "genzoo", "demo", str(results), str(tmp_path / "broken"),
                             "--port", "0"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = None

    def up(_):
        nonlocal url
        if proc.poll() is not None:
            raise AssertionError(f"genzoo demo exited ({proc.returncode}): {log_path.read_text()}")
        if url is None:
            found = ANNOUNCED.search(log_path.read_text())
            if found is None:
                return False
            assert int(found.group(2)) > 0, found.group(0)
            url = found.group(1) + "/"
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    try:
        WebDriverWait(None, 120, poll_frequency=0.25).until(up, "the demo server did not answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _picture(driver, element_id: str) -> tuple[str, np.ndarray]:
    """(src, pixels) of the picture an image component shows."""
    from PIL import Image

    src = driver.find_element(CSS, f"#{element_id} img").get_attribute("src")
    with urllib.request.urlopen(src, timeout=30) as r:
        return src, np.asarray(Image.open(io.BytesIO(r.read())).convert("RGB"))


def _new_picture(driver, element_id: str, old_src: str | None):
    """Wait until the component shows a picture other than ``old_src``; its (src, pixels)."""
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d):
        imgs = d.find_elements(CSS, f"#{element_id} img")
        return bool(imgs) and imgs[0].get_attribute("src") not in (None, "", old_src)

    WebDriverWait(driver, 90).until(shown, f"#{element_id} showed no new picture")
    return _picture(driver, element_id)


def _pick(driver, element_id: str, label: str) -> None:
    """Choose ``label`` in a dropdown: type it, wait for the filtered option, press Enter."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(CSS, f"#{element_id} input")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(label)
    WebDriverWait(driver, 30).until(lambda d: [li for li in d.find_elements(CSS, "ul.option-list li")
                                               if li.text.strip() == label], f"no option {label!r}")
    box.send_keys(Keys.ENTER)


def test_the_page_draws_new_samples_and_the_seed_reproduces_them(browser, server, tmp_path):
    """The user's path: open the page, press "new samples" twice, type the first seed back in,
    press "draw this seed": the first grid comes back, pixel for pixel. Then a broken model."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server)
    src0, first = _new_picture(browser, "samples", None)            # the first model, seed 0
    seed = browser.find_element(CSS, "#seed input")
    assert seed.get_attribute("value") == "0"
    browser.find_element("id", "new-samples").click()
    src_a, a = _new_picture(browser, "samples", src0)
    seed_a = seed.get_attribute("value")
    assert not np.array_equal(a, first) and seed_a != "0"
    browser.find_element("id", "new-samples").click()
    src_b, b = _new_picture(browser, "samples", src_a)
    assert not np.array_equal(b, a) and seed.get_attribute("value") != seed_a
    seed.send_keys(Keys.CONTROL, "a")
    seed.send_keys(seed_a, Keys.TAB)
    browser.find_element("id", "draw").click()
    _, again = _new_picture(browser, "samples", src_b)
    assert np.array_equal(again, a)
    # a model that cannot be loaded: one line on the page says which file and why
    _pick(browser, "model", "broken/dcgan")
    WebDriverWait(browser, 90).until(lambda d: "Error:" in d.find_element("id", "status").text)
    status = browser.find_element("id", "status").text
    assert "model.safetensors is truncated or not a safetensors file" in status and "\n" not in status.strip()
    # the page works offline: everything it loaded came from the demo server
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in loaded if not u.startswith(server) and not u.startswith("data:")] == []
    shots = Path(os.environ.get("GENZOO_TEST_ARTIFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "demo-page.png"))
    print(f"screenshot: {shots / 'demo-page.png'}")
