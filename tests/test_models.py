"""The shared model contract, run over the whole registry on tiny presets (diffusers-style mixin)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from pathlib import Path

import pytest
import torch

import genzoo
from genzoo.data import Dataset
from genzoo.models._api import get_model_class, register_model


def tiny(name: str, **overrides):
    return genzoo.get_model(name, preset="tiny", **overrides)


class ModelTesterMixin:
    """Every model must pass these; ``data`` is a fixture each subclass binds."""

    @pytest.fixture
    def fitted(self, name, data):
        return tiny(name).fit(data, seed=0, device="cpu")

    def test_fit_returns_self_and_records_finite_history(self, name, data):
        m = tiny(name)
        assert m.fit(data, seed=0, device="cpu") is m
        assert len(m.history_) == m.config.max_steps
        keys = set(m.history_[0]) - {"step", "epoch"}
        assert keys, "history must hold the family's losses"
        assert all(torch.isfinite(torch.tensor(h[k])) for h in m.history_ for k in keys)

    def test_sample_shape_range_dtype(self, fitted, data):
        x = fitted.sample(10, seed=1)
        assert x.shape == (10, *data.shape) and x.dtype == torch.float32 and x.device.type == "cpu"
        if data.kind == "image":
            assert 0.0 <= x.min() and x.max() <= 1.0

    def test_same_seed_same_samples(self, fitted):
        assert torch.equal(fitted.sample(8, seed=3), fitted.sample(8, seed=3))
        assert not torch.equal(fitted.sample(8, seed=3), fitted.sample(8, seed=4))
        assert not torch.equal(fitted.sample(8), fitted.sample(8)), "seed=None continues the stream"

    def test_fit_is_deterministic(self, name, data, fitted):
        again = tiny(name).fit(data, seed=0, device="cpu")
        for (k, a), (_, b) in zip(fitted.nets_.state_dict().items(), again.nets_.state_dict().items()):
            assert torch.equal(a, b), f"weights {k} differ between two fits with the same seed"
        assert torch.equal(fitted.sample(8, seed=1), again.sample(8, seed=1))
        other = tiny(name).fit(data, seed=1, device="cpu")
        assert not torch.equal(fitted.sample(8, seed=1), other.sample(8, seed=1))

    def test_save_load_round_trip(self, fitted, tmp_path):
        fitted.save_pretrained(tmp_path / "m")
        meta = json.loads((tmp_path / "m" / "config.json").read_text())
        assert meta["class"] == type(fitted).__name__ and meta["genzoo_version"] == genzoo.__version__
        assert (tmp_path / "m" / "model.safetensors").is_file()
        loaded = genzoo.load(tmp_path / "m")
        assert type(loaded) is type(fitted) and loaded.config == fitted.config
        assert torch.equal(loaded.sample(12, seed=5), fitted.sample(12, seed=5))

    def test_every_sampling_path_runs_without_autograd(self, fitted, data):
        paths = {"seed": lambda: fitted.sample(5, seed=1), "stream": lambda: fitted.sample(5)}
        if "prior" in inspect.signature(fitted.sample).parameters:
            paths["prior=normal"] = lambda: fitted.sample(5, seed=1, prior="normal")
        if hasattr(fitted, "reconstruct"):
            paths["reconstruct"] = lambda: fitted.reconstruct(data.x[:5])
            paths["encode"] = lambda: fitted.encode(data.x[:5])
        with torch.enable_grad():
            for what, draw in paths.items():
                x = draw()
                assert not x.requires_grad and x.grad_fn is None, what

    def test_a_diverged_fit_leaves_the_model_as_it_was(self, name, data, fitted):
        """NaN data makes every family's loss NaN at step 1: DivergenceError, and neither a new
        model nor a fitted one shows a trace of the failed fit."""
        bad = Dataset(data.name, torch.full(data.x.shape, float("nan")), data.y, data.num_classes, data.class_names,
                      meta=data.meta)
        fresh = tiny(name)
        with pytest.raises(genzoo.DivergenceError) as err:
            fresh.fit(bad, seed=0, device="cpu")
        assert err.value.step == 1 and err.value.history == []
        assert not fresh.is_fitted and not [k for k in vars(fresh) if k.endswith("_")]
        before = {k: v.clone() for k, v in fitted.nets_.state_dict().items()}
        history, samples = list(fitted.history_), fitted.sample(6, seed=2)
        with pytest.raises(genzoo.DivergenceError):
            fitted.fit(bad, seed=1, device="cpu")
        after = fitted.nets_.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before) and fitted.history_ == history
        assert torch.equal(fitted.sample(6, seed=2), samples) and fitted.seed_ == 0

    def test_a_failed_fit_leaves_the_model_as_it_was(self, name, data):
        class Boom:
            def on_step_end(self, model, step, logs):
                if step == 2:
                    raise RuntimeError("boom")

        m = tiny(name)
        with pytest.raises(RuntimeError, match="boom"):
            m.fit(data, seed=0, device="cpu", callbacks=[Boom()])
        assert not m.is_fitted and not [k for k in vars(m) if k.endswith("_")]

    def test_sample_before_fit_raises(self, name):
        with pytest.raises(ValueError, match="not fitted"):
            tiny(name).sample(4)

    def test_labels_contract(self, fitted):
        n = 6
        if not fitted.conditional:
            with pytest.raises(ValueError, match="unconditional"):
                fitted.sample(n, labels=torch.zeros(n, dtype=torch.long))
            return
        k = fitted.num_classes_
        with pytest.raises(ValueError, match="shape"):
            fitted.sample(n, labels=torch.zeros(n + 1, dtype=torch.long))
        with pytest.raises(ValueError, match="lie in"):
            fitted.sample(n, labels=torch.full((n,), k, dtype=torch.long))
        with pytest.raises(ValueError, match="LongTensor"):
            fitted.sample(n, labels=torch.zeros(n))
        a = fitted.sample(n, labels=torch.zeros(n, dtype=torch.long), seed=2)
        b = fitted.sample(n, labels=torch.ones(n, dtype=torch.long), seed=2)
        assert not torch.equal(a, b), "the label must change the sample"


MODELS = genzoo.list_models()


@pytest.mark.parametrize("name", genzoo.list_models(data_kind="image"))
class TestOnFashionImages(ModelTesterMixin):
    @pytest.fixture
    def data(self, fashion_small):
        return fashion_small


@pytest.mark.parametrize("name", genzoo.list_models(data_kind="points"))
class TestOnPoints(ModelTesterMixin):
    @pytest.fixture
    def data(self, ring_data):
        return ring_data.subset(1000)


@pytest.mark.parametrize("name", MODELS)
def test_three_channel_images(name):
    x = torch.rand(64, 3, 28, 28)
    data = Dataset("rgb", x, torch.arange(64) % 2, 2, ("a", "b"))
    m = tiny(name, max_steps=3).fit(data, seed=0, device="cpu")
    assert m.sample(4, seed=0).shape == (4, 3, 28, 28)


def test_registry_lists_the_models_sorted_with_what_they_declare():
    assert genzoo.list_models() == ["ae", "cgan", "dcgan", "dcgan-smalld", "gan", "gan-mbdisc", "gan-mbstd", "gan-replay",
                                    "lsgan", "pacdcgan2", "pacdcgan2-smalld", "pacgan2", "pacgan4", "progan", "stylegan",
                                    "vae", "wgan", "wgan-gp"]
    assert genzoo.list_models(family="autoencoder") == ["ae", "vae"]
    assert genzoo.list_models(data_kind="points") == ["cgan", "gan", "gan-mbdisc", "gan-mbstd", "gan-replay", "lsgan",
                                                      "pacgan2", "pacgan4", "wgan", "wgan-gp"]
    for name in genzoo.list_models():
        cls = get_model_class(name)
        assert cls.family in genzoo.models.list_families() and cls.paper and cls.architecture in ("mlp", "conv")
    assert get_model_class("lsgan").published_names == ("LSGAN",)


def test_a_model_is_one_file(tmp_path):
    """The package imports every public module in it: a model file registers itself, and the
    registry, presets and shared tests pick it up with nothing else edited."""
    import genzoo.models as gm

    files = sorted(p.stem for p in Path(gm.__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    registered = {get_model_class(n).__module__.rsplit(".", 1)[1] for n in genzoo.list_models()}
    assert registered == set(files) - {"adversarial", "base", "layers", "losses"}


def test_packing_makes_d_judge_pack_items_at_once(ring_data):
    """PacGAN: D's input is ``pack`` consecutive items, concatenated; it gives one logit per pack.
    The named variants are the GAN / DCGAN with the paper's pack sizes and nothing else changed."""
    from genzoo.models.adversarial import pack_items

    x = torch.arange(24.0).view(6, 1, 2, 2)
    assert torch.equal(pack_items(x, 3)[1], torch.cat([x[3], x[4], x[5]]))           # items 3, 4, 5 -> input 1
    m = tiny("pacgan4", max_steps=2).fit(ring_data, seed=0)
    pts = torch.randn(8, 2)
    assert m.discriminate(pts, None).shape == (2,)
    assert torch.equal(m.discriminate(pts, None), m.nets_["D"](pts.reshape(2, 8)))
    assert m.discriminate(pts[[1, 0, 2, 3, 4, 5, 6, 7]], None)[0] != m.discriminate(pts, None)[0]   # order within a pack counts
    for name, base, remedy, field, value in [("pacgan2", "gan", "pack", "pack", 2), ("pacgan4", "gan", "pack", "pack", 4),
                                             ("pacdcgan2", "dcgan", "pack", "pack", 2),
                                             ("gan-mbstd", "gan", "minibatch_std", "minibatch_std", True),
                                             ("gan-mbdisc", "gan", "minibatch_discrimination", "minibatch_discrimination", True),
                                             ("gan-replay", "gan", "replay", "replay", 0.25)]:
        cls, plain = get_model_class(name), get_model_class(base)
        assert cls.variant_of == base and cls.remedy == remedy and getattr(cls.Config(), field) == value
        assert {**dataclasses.asdict(cls.Config()), field: getattr(plain.Config(), field)} == dataclasses.asdict(plain.Config())
        assert issubclass(cls, plain) and cls.__module__.rsplit(".", 1)[1] in ("pacgan", "remedies")
    img = tiny("dcgan", pack=2)
    assert img.config.pack == 2
    assert pack_items(torch.arange(7.0).view(7, 1), 3).shape == (2, 3)                 # a short batch drops its tail
    with pytest.raises(ValueError, match="judges 4 items at once"):
        tiny("pacgan4").fit(ring_data.subset(3), seed=0)
    with pytest.raises(ValueError, match="batch_size must be a multiple of pack"):
        genzoo.get_model("gan", pack=3, batch_size=64)
    assert "pack" not in {f.name for f in dataclasses.fields(get_model_class("cgan").Config)}   # labels are per item


def test_batch_statistic_layers_see_the_whole_batch():
    """ProGAN's minibatch std and Salimans et al.'s minibatch discrimination: features of the
    batch, so a collapsed batch (identical items) looks different from a diverse one."""
    from genzoo.models.layers import MinibatchDiscrimination, MinibatchStd

    same, varied = torch.ones(6, 3, 4, 4), torch.randn(6, 3, 4, 4)
    out = MinibatchStd()(varied)
    assert out.shape == (6, 4, 4, 4) and torch.equal(out[:, :3], varied)
    assert torch.allclose(out[:, 3], varied.std(0, unbiased=False).mean().expand(6, 4, 4), atol=1e-6)
    assert float(MinibatchStd()(same)[0, 3, 0, 0]) < 1e-3 < float(out[0, 3, 0, 0])
    md = MinibatchDiscrimination(48, kernels=5, dim=3)
    with torch.no_grad():
        o_same, o_varied = md(same)[:, 3:, 0, 0], md(varied * 10)[:, 3:, 0, 0]
    assert o_same.shape == (6, 5) and torch.allclose(o_same, torch.full((6, 5), 5.0))   # 5 identical neighbours
    assert float(o_varied.max()) < 1.0                                                   # far from each other
    pts = md.__class__(2, kernels=4)(torch.randn(8, 2))
    assert pts.shape == (8, 6)


def test_pacgan_2d_networks_maxout_d_and_batch_norm_g(ring_data, tmp_path):
    """PacGAN's 2-D networks: D of maxout units (the largest of k pieces), G with batch norm."""
    from genzoo.models.layers import Maxout

    h = torch.tensor([[1.0, 5.0, -2.0, 0.5, 0.0, 3.0]])
    assert torch.equal(Maxout(3)(h), torch.tensor([[5.0, 3.0]]))
    m = tiny("pacgan2", d_maxout=5, g_batch_norm=True, d_hidden=(16, 16), max_steps=6).fit(ring_data.subset(200), seed=0)
    lin = [mod for mod in m.nets_["D"].modules() if isinstance(mod, torch.nn.Linear)]
    assert [x.out_features for x in lin] == [80, 80, 1] and lin[0].in_features == 4        # 16 units x 5 pieces; 2 points
    assert sum(isinstance(mod, Maxout) for mod in m.nets_["D"].modules()) == 2
    g_bn = [mod for mod in m.nets_["G"].modules() if isinstance(mod, torch.nn.BatchNorm1d)]
    assert len(g_bn) == len(m.config.g_hidden) and int(g_bn[0].num_batches_tracked) > 0
    m.save_pretrained(tmp_path / "m")
    assert torch.equal(genzoo.load(tmp_path / "m").sample(5, seed=1), m.sample(5, seed=1))


@pytest.mark.parametrize("option", [{"minibatch_std": True}, {"minibatch_discrimination": True},
                                    {"replay": 0.5, "replay_size": 100}])
@pytest.mark.parametrize("name", ["gan", "dcgan", "wgan-gp"])
def test_mode_collapse_remedies_train_save_and_load(name, option, fashion_small, ring_data, tmp_path):
    data = fashion_small if name == "dcgan" else ring_data.subset(500)
    m = tiny(name, max_steps=6, **option).fit(data, seed=0)
    assert len(m.history_) == 6 and all(math.isfinite(v) for v in m.history_[-1].values())
    if "replay" not in option:
        assert any(type(mod).__name__.startswith("Minibatch") for mod in m.nets_["D"].modules())
    m.save_pretrained(tmp_path / "m")
    assert torch.equal(genzoo.load(tmp_path / "m").sample(5, seed=1), m.sample(5, seed=1))
    assert tiny(name, max_steps=6, **option).fit(data, seed=0).history_ == m.history_     # seeded like any fit


def test_replay_mixes_past_samples_into_the_fake_batch():
    from genzoo.models.adversarial import ReplayBuffer
    from genzoo.training.loop import StepContext

    ctx = StepContext(torch.zeros(10, 2), torch.zeros(10, dtype=torch.long), 4, 0, torch.device("cpu"))
    buf = ReplayBuffer(size=6)
    first = torch.full((4, 2), 1.0)
    assert torch.equal(buf.mix(first, 0.5, ctx), first)             # nothing to replay yet
    out = buf.mix(torch.full((4, 2), 2.0), 0.5, ctx)
    assert torch.equal(out[:2], torch.ones(2, 2)) and torch.equal(out[2:], torch.full((2, 2), 2.0))
    buf.mix(torch.full((4, 2), 3.0), 0.5, ctx)                      # a ring buffer of the last 6 items
    assert buf.count == 6 and sorted(buf.items[:, 0].tolist()) == [2.0, 2.0, 3.0, 3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="replay must be"):
        genzoo.get_model("gan", replay=1.0)
    with pytest.raises(ValueError, match="set one of them"):
        genzoo.get_model("dcgan", minibatch_std=True, minibatch_discrimination=True)


def test_registry_rejects_duplicates_and_unknown_names():
    with pytest.raises(ValueError, match="already registered"):
        register_model("gan")(type("Other", (), {}))
    with pytest.raises(ValueError, match=r"unknown model 'bigan'.*'ae', 'cgan'"):
        genzoo.get_model("bigan")


V1_LOSSES = Path(__file__).parent / "data" / "losses_v1.json"
# Golden values written on another machine are compared within GOLDEN_RTOL, not bit for bit: CPU
# kernels differ between processors (AVX2 against AVX-512, oneDNN's choices), and the same 20
# steps then round differently. Measured against losses_v1.json: a 2-core AMD EPYC (AVX2, no
# AVX-512) gives the AE's step-13 loss 506.45001220703125 against 506.4500427246094 (6e-8
# relative); a 2-core Intel Xeon with AVX-512 gives every model within 2e-6 except DCGAN, whose
# adversarial updates amplify the rounding: 1e-7 relative for 16 steps, then 1.5e-6, 2.3e-6 and
# 9.0e-6 at steps 17-19, and 1.5e-5 on its sample sum. So 1e-5 is too tight; 1e-4 leaves about
# ten times that, and still catches a change of what is computed (a learning rate 1% off moves
# the losses by more: test_the_golden_tolerance_catches_a_changed_computation). Values near 0
# (a critic's loss of -6e-6) are held to GOLDEN_ATOL instead. Determinism (the same numbers
# twice on one machine) is checked bit for bit beside it.
GOLDEN_RTOL, GOLDEN_ATOL = 1e-4, 1e-6


def assert_history_close(got: list[dict], want: list[dict], key: str) -> None:
    """Each logged value of ``got`` within GOLDEN_RTOL of ``want``; the same steps and keys."""
    assert len(got) == len(want), f"{key}: {len(got)} steps, expected {len(want)}"
    for step, (g, w) in enumerate(zip(got, want), 1):
        assert g.keys() == w.keys(), f"{key} step {step}: keys {sorted(g)} != {sorted(w)}"
        for name, value in w.items():
            assert math.isclose(g[name], value, rel_tol=GOLDEN_RTOL, abs_tol=GOLDEN_ATOL), \
                f"{key} step {step} {name}: {g[name]!r} against {value!r} (rtol {GOLDEN_RTOL:g})"


def test_the_six_original_models_train_exactly_as_before_the_v2_contract():
    """tests/data/losses_v1.json: the per-step history of 20 steps (seed 3) and a sample sum of each
    original model, written by genzoo 351ead0, where every family ran its own zero_grad /
    backward / step. The shared loop must reproduce them within GOLDEN_RTOL (another CPU rounds
    differently), and a second fit on this machine must give the same numbers bit for bit."""
    ref = json.loads(V1_LOSSES.read_text())
    img = genzoo.data.load("fashion-mnist", split="test").subset(256, seed=0)
    pts = genzoo.data.load("ring", n=512)
    assert len(ref) == 9
    for key, want in ref.items():
        name, kind = key.split("/")
        data = img if kind == "image" else pts
        m = tiny(name, max_steps=20).fit(data, seed=3, device="cpu")
        assert_history_close(m.history_, want["history"], key)
        total = float(m.sample(16, seed=5).double().sum())
        assert math.isclose(total, want["sample_sum"], rel_tol=GOLDEN_RTOL), (key, total, want["sample_sum"])
        if key == "dcgan/image":        # deterministic on one machine: bit for bit (one model keeps it short)
            again = tiny(name, max_steps=20).fit(data, seed=3, device="cpu")
            assert again.history_ == m.history_
            assert float(again.sample(16, seed=5).double().sum()) == total


def test_the_golden_tolerance_catches_a_changed_computation():
    """The tolerance is not so loose that a change of what is trained passes: a learning rate 1%
    off moves the AE's losses out of it within the 20 steps."""
    want = json.loads(V1_LOSSES.read_text())["ae/image"]["history"]
    img = genzoo.data.load("fashion-mnist", split="test").subset(256, seed=0)
    lr = tiny("ae").config.lr
    m = tiny("ae", max_steps=20, lr=lr * 1.01).fit(img, seed=3, device="cpu")
    with pytest.raises(AssertionError, match="rtol"):
        assert_history_close(m.history_, want, "ae/image")


def test_unknown_config_key_names_the_valid_keys():
    with pytest.raises(ValueError, match=r"unknown config key\(s\) \['latnet_dim'\].*latent_dim"):
        genzoo.get_model("vae", latnet_dim=16)
    assert genzoo.get_model("vae", latent_dim=16).config.latent_dim == 16
    with pytest.raises(ValueError, match="unknown preset"):
        genzoo.get_model("vae", preset="huge")


def test_configs_are_frozen_and_presets_differ():
    m = genzoo.get_model("dcgan")
    with pytest.raises(Exception):
        m.config.lr_g = 1.0
    assert tiny("dcgan").config.g_width < m.config.g_width


@pytest.mark.parametrize("name", sorted(set(MODELS) - set(genzoo.list_models(data_kind="points"))))
def test_image_only_models_refuse_points(name, ring_data):
    with pytest.raises(ValueError, match="fits image data only"):
        tiny(name).fit(ring_data, seed=0)


def test_fit_rejects_non_dataset_and_bad_device(fashion_small):
    with pytest.raises(ValueError, match="Dataset"):
        tiny("gan").fit(torch.rand(10, 1, 28, 28))
    with pytest.raises(ValueError, match="device"):
        tiny("gan").fit(fashion_small, device="tpu")


def test_published_defaults():
    dc, w = genzoo.get_model("dcgan").config, genzoo.get_model("wgan").config
    assert (dc.lr_g, dc.beta1) == (2e-4, 0.5)
    assert (w.clip, w.n_critic, w.lr) == (0.01, 5, 5e-5)
    assert genzoo.get_model("gan").config.loss == "non-saturating"


def test_divergence_is_reported_with_its_step(fashion_small):
    m = tiny("gan", lr_g=1e30, lr_d=1e30, max_steps=50)
    with pytest.raises(genzoo.DivergenceError) as err:
        m.fit(fashion_small, seed=0, device="cpu")
    assert 1 <= err.value.step <= 50 and "diverged at step" in str(err.value)
    assert len(err.value.history) == err.value.step - 1, "no NaN step may enter the history"
    assert all(h["step"] == i + 1 for i, h in enumerate(err.value.history))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_and_cpu_samples(fashion_small):
    m = tiny("dcgan").fit(fashion_small, seed=0, device="cuda")
    assert m.device_.type == "cuda" and m.sample(4, seed=0).device.type == "cpu"


# --- config validation: every family's config checks types and ranges when it is built --------------

def _bad_values(name: str) -> list[tuple[str, object]]:
    """(field, bad value) pairs for one family: the shared fields, and the family's own learning
    rate, width and hidden-layer fields."""
    fields = {f.name for f in dataclasses.fields(genzoo.get_model(name).config)}
    bad = [("max_steps", -5), ("max_steps", 0), ("epochs", -1), ("epochs", 0), ("epochs", "two"),
           ("latent_dim", 0), ("batch_size", 0), ("latent_dim", 2.5), ("batch_size", True)]
    bad += [(f, -1e-3) for f in sorted(fields) if f.startswith("lr")]
    bad += [(f, 0) for f in sorted(fields) if f.endswith("width") or f == "embed_dim"]
    bad += [(f, [64, 0]) for f in sorted(fields) if f.endswith("_hidden")]
    return bad


BAD_VALUES = [(name, field, value) for name in MODELS for field, value in _bad_values(name)]


@pytest.mark.parametrize("name,field,value", BAD_VALUES,
                         ids=[f"{n}-{f}={v!r}" for n, f, v in BAD_VALUES])
def test_bad_config_values_raise_naming_the_field(name, field, value):
    with pytest.raises(ValueError, match=rf"^{name}: {field}\b") as err:
        genzoo.get_model(name, preset="tiny", **{field: value})
    shown = repr(tuple(value)) if isinstance(value, list) else repr(value)   # a list is checked as a tuple
    assert f"got {shown}" in str(err.value), "the message shows the bad value"


def test_config_messages_say_what_is_expected():
    with pytest.raises(ValueError, match=r"^gan: epochs must be a number, got 'two' \(str\)$"):
        tiny("gan", epochs="two")
    with pytest.raises(ValueError, match=r"^vae: latent_dim must be >= 1, got 0$"):
        tiny("vae", latent_dim=0)
    with pytest.raises(ValueError, match=r"^gan: max_steps must be >= 1, got -5$"):
        tiny("gan", max_steps=-5)
    with pytest.raises(ValueError, match=r"^gan: beta1 must be in \[0, 1\), got 1"):
        tiny("gan", beta1=1.0)
    with pytest.raises(ValueError, match=r"^wgan: clip must be a finite number, got inf"):
        tiny("wgan", clip=float("inf"))
    with pytest.raises(ValueError, match=r"^dcgan: loss must be 'non-saturating' or 'minimax', got 'hinge'"):
        tiny("dcgan", loss="hinge")
    with pytest.raises(ValueError, match=r"^cgan: g_hidden must be a list of integers, got \[64, 'a'\]"):
        tiny("cgan", g_hidden=[64, "a"])


def test_good_config_values_are_accepted_and_normalised():
    m = tiny("gan", epochs=2, max_steps=None, g_hidden=[32, 16], lr_g=1)
    assert m.config.epochs == 2.0 and type(m.config.epochs) is float, "an int for a float field is stored as float"
    assert type(m.config.lr_g) is float
    assert m.config.g_hidden == (32, 16) and m.config.max_steps is None
    assert tiny("wgan", epochs=1.5, clip=0.05).config.clip == 0.05
    cfg = tiny("vae").config
    with pytest.raises(ValueError, match="latent_dim"):   # the dataclass itself checks, not only get_model
        dataclasses.replace(cfg, latent_dim=0)
    with pytest.raises(ValueError, match="epochs"):
        type(cfg)(epochs=-1.0)


@pytest.mark.parametrize("name", MODELS)
def test_every_numeric_config_field_has_a_declared_range(name):
    import typing

    cls = type(genzoo.get_model(name).config)
    hints = typing.get_type_hints(cls)
    limits = {}
    for klass in reversed(cls.__mro__):
        limits.update(vars(klass).get("LIMITS", {}))
    numeric = [f.name for f in dataclasses.fields(cls) if hints[f.name] not in (str, bool)]
    assert numeric and not [f for f in numeric if f not in limits]


@pytest.mark.parametrize("name", MODELS)
def test_fit_on_empty_data_or_a_batch_larger_than_the_data_raises(name):
    empty = Dataset("empty", torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), 2, ("a", "b"))
    with pytest.raises(ValueError, match="'empty'.*has no items"):
        tiny(name).fit(empty, seed=0, device="cpu")
    few = Dataset("few", torch.rand(10, 1, 28, 28), torch.arange(10) % 2, 2, ("a", "b"))
    with pytest.raises(ValueError, match="batch_size = 64 is more than the 10 items"):   # was clamped: refused now
        tiny(name, batch_size=64, max_steps=2).fit(few, seed=0, device="cpu")
    m = tiny(name, batch_size=8, max_steps=2).fit(few, seed=0, device="cpu")           # within the data: fine
    assert len(m.history_) == 2
