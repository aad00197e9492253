"""Networks built from the data's shape (issue #25 item 4) and uint8 images in training (item 3).

Every image model builds for square images of side 7 * 2^k or 4 * 2^k (28, 32 and 64 here, 1 and 3
channels), the depth of its convolutional networks following from the side; its discriminator
gives exactly one logit per item; any other size is refused in one line before a network is
built; a checkpoint keeps the shape. A set of uint8 images trains bit for bit as the same set given
as float32 (``genzoo.data.as_float``), and stays uint8 (one copy) through the fit.

The data are generated in memory: uint8 images whose content depends on the class (a bright
horizontal or vertical bar, a class per channel pattern), at any side.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

import genzoo
from genzoo.data import Dataset, as_float
from genzoo.models import layers
from genzoo.models._shapes import IMAGE_SIDES, down_layers, up_layers

SIDES = (28, 32, 64)
CHANNELS = (1, 3)
FIT_MODELS = ("dcgan", "vae", "ae", "cgan", "wgan-gp", "gan", "pacdcgan2")
SMALL = {"max_steps": 2, "batch_size": 4}


def bars(n: int, channels: int, side: int, seed: int = 0) -> Dataset:
    """``n`` uint8 images (N, C, side, side) of 2 classes: class 0 a bright horizontal bar, class 1
    a vertical one, a quarter of the side thick at a random place, on faint noise; in channel c the
    bar is shifted by c (so the channels differ)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n,), generator=g)
    x = torch.randint(0, 40, (n, channels, side, side), generator=g, dtype=torch.uint8)
    thick = side // 4
    pos = torch.randint(0, side - thick - channels, (n,), generator=g)
    for i in range(n):
        for c in range(channels):
            p = int(pos[i]) + c
            if y[i] == 0:
                x[i, c, p:p + thick, :] = 255
            else:
                x[i, c, :, p:p + thick] = 255
    return Dataset(f"bars{side}", x, y, 2, ("horizontal", "vertical"))


def tiny(name: str, **overrides):
    return genzoo.get_model(name, "tiny", **{**SMALL, **overrides})


def d_logits(model, data: Dataset) -> torch.Tensor:
    """The fitted model's discriminator on 8 training images, as its losses see them."""
    x = model.to_model_scale(as_float(data.x[:8]))
    labels = data.y[:8] if model.conditional else None
    with torch.no_grad():
        return model.discriminate(x, labels)


# ----------------------------------------------------------------------------- the sizes


def test_the_sides_and_depths():
    """7 * 2^k and 4 * 2^k up to 128; G doubles from 7 or 4, D halves down to 4 or less."""
    assert IMAGE_SIDES == (8, 14, 16, 28, 32, 56, 64, 112, 128)
    assert {s: up_layers(s) for s in (14, 16, 28, 32, 56, 64, 128)} == {14: 1, 16: 2, 28: 2, 32: 3, 56: 3, 64: 4,
                                                                        128: 5}
    assert {s: down_layers(s) for s in (14, 16, 28, 32, 56, 64, 128)} == {14: 2, 16: 2, 28: 3, 32: 3, 56: 4, 64: 4,
                                                                          128: 5}
    for bad in (7, 30, 50, 256):
        with pytest.raises(ValueError, match=r"side 8, 14, 16, 28, 32, 56, 64, 112 or 128 pixels"):
            up_layers(bad)


def _map_sides(net: nn.Module, x: torch.Tensor) -> list[tuple[int, int]]:
    """(channels, side) after each (transposed) convolution of ``net`` on input ``x``."""
    out = []
    hooks = [m.register_forward_hook(lambda m, i, o: out.append((o.shape[1], o.shape[-1])))
             for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return out


@pytest.mark.parametrize("side, g_maps, d_maps", [
    (28, [(128, 14), (1, 28)], [(64, 14), (128, 7), (256, 4), (1, 1)]),
    (32, [(256, 8), (128, 16), (1, 32)], [(64, 16), (128, 8), (256, 4), (1, 1)]),
    (64, [(512, 8), (256, 16), (128, 32), (1, 64)], [(64, 32), (128, 16), (256, 8), (512, 4), (1, 1)]),
])
def test_default_dcgan_depth_follows_the_side(side, g_maps, d_maps):
    """genzoo's DCGAN: G projects to 7x7 at 28 (2 blocks), 4x4 at 32 (3) and 64 (4); D halves down
    to 4x4 and ends in one logit per image. (Built and run on the meta device: shapes only.)"""
    with torch.device("meta"):
        nets = genzoo.get_model("dcgan").build((1, side, side), 10)
        g, d = nets["G"], nets["D"]
        assert g.side == (7 if side == 28 else 4) and g.width == 64 * 2 ** up_layers(side)
        assert _map_sides(g, torch.randn(2, 100)) == g_maps
        assert _map_sides(d, torch.randn(2, 1, side, side)) == d_maps
    assert genzoo.get_model("dcgan").config.g_layers is None            # None: from the side


def test_an_explicit_depth_keeps_working_at_any_side():
    """g_layers / d_layers set in a config fix the depth whatever the side (the stacked benchmark's
    g_layers=4, d_layers=4): at 32, G projects to 2x2 and D halves down to 2x2."""
    with torch.device("meta"):
        nets = genzoo.get_model("dcgan", g_layers=4, d_layers=4, kernel=5).build((3, 32, 32), 10)
        assert _map_sides(nets["G"], torch.randn(2, 100))[-1] == (3, 32) and nets["G"].side == 2
        assert _map_sides(nets["D"], torch.randn(2, 3, 32, 32)) == [(64, 16), (128, 8), (256, 4), (512, 2), (1, 1)]


def test_the_depths_recorded_before_build_the_same_networks_at_28():
    """Records and checkpoints written before the depths followed the side hold g_layers=2,
    d_layers=3: at 28x28 they build the default networks, weight for weight."""
    def weights(**overrides):
        torch.manual_seed(0)
        return genzoo.get_model("dcgan", "tiny", **overrides).build((1, 28, 28), 10).state_dict()

    old, new = weights(g_layers=2, d_layers=3), weights()
    assert list(old) == list(new) and all(torch.equal(old[k], new[k]) for k in old)


@pytest.mark.parametrize("side", SIDES)
def test_the_conv_autoencoders_halve_to_their_base_and_back(side):
    enc = layers.ConvEncoder(3, 16, 4, side=side)
    dec = layers.ConvDecoder(16, 3, 4, side=side)
    base = 7 if side == 28 else 4
    assert _map_sides(enc, torch.rand(2, 3, side, side))[-1] == (4 * 2 ** (up_layers(side) - 1), base)
    assert _map_sides(dec, torch.randn(2, 16))[-1] == (3, side)


@pytest.mark.parametrize("side", SIDES)
def test_every_image_model_builds_with_one_logit_per_item(side):
    """Every image model (the plug-ins' aside), its tiny preset, 3 channels: the networks build and
    its discriminator gives one logit per item (per pack)."""
    data = bars(8, 3, side)
    for name in genzoo.list_models(data_kind="image"):
        model = genzoo.get_model(name, "tiny")
        assert model.supports(data), name
        model.setup(data.shape, data.num_classes, 0, torch.device("cpu"), data.name)   # asserts one logit
        if model.family == "gan":
            assert d_logits(model, data).shape == (8 // model.pack,), name


def test_a_discriminator_with_a_map_of_logits_is_refused_when_built():
    """No silent PatchGAN: a D built for one side refuses images of another, and a model whose
    discriminator gives a map of logits per item is refused when its networks are built."""
    d = layers.DCDiscriminator(1, 4, side=28)
    with pytest.raises(ValueError, match=r"built for images of side 28 got images of shape \(1, 64, 64\): 5x5 logits"):
        d(torch.randn(2, 1, 64, 64))

    class PatchDCGAN(type(genzoo.get_model("dcgan"))):                  # D built for 28 whatever the data
        def build(self, shape, num_classes):
            nets = super().build(shape, num_classes)
            nets["D"] = nn.Sequential(nn.Conv2d(shape[0], 1, 4, 2, 1), nn.Flatten())   # (B, side/2 * side/2)
            return nets

    with pytest.raises(ValueError, match=r"^dcgan: its discriminator .* not one logit per item"):
        PatchDCGAN(tiny("dcgan").config).fit(bars(16, 1, 32), device="cpu")


@pytest.mark.parametrize("shape", [(1, 30, 30), (3, 50, 50), (1, 28, 32), (1, 256, 256), (3, 7, 7)])
def test_other_sizes_are_refused_in_one_line_before_any_network_is_built(shape):
    built = []

    class Probe(type(genzoo.get_model("dcgan"))):
        def build(self, shape, num_classes):
            built.append(shape)
            return super().build(shape, num_classes)

    data = Dataset("odd", torch.zeros(8, *shape, dtype=torch.uint8), torch.zeros(8, dtype=torch.long), 2, ("a", "b"))
    for model in (Probe(tiny("dcgan").config), tiny("vae"), tiny("gan"), tiny("cgan")):
        with pytest.raises(ValueError) as err:
            model.fit(data, device="cpu")
        msg = str(err.value)
        assert "\n" not in msg and "square images of side 8, 14, 16, 28, 32, 56, 64, 112 or 128" in msg, msg
        assert f"holds images of shape {shape}" in msg and not model.supports(data)
    assert built == []
    points = genzoo.data.load("ring", n=64)
    assert tiny("vae").unsupported_reason(points) == "vae fits image data only; 'ring' holds points of shape (2,)"


# ----------------------------------------------------------------------------- fit and sample


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("channels", CHANNELS)
def test_tiny_models_fit_and_sample_at_each_size(side, channels):
    data = bars(16, channels, side, seed=side + channels)
    for name in FIT_MODELS:
        model = tiny(name).fit(data, seed=0, device="cpu")
        assert len(model.history_) == 2 and model.shape_ == (channels, side, side), name
        x = model.sample(4, seed=1)
        assert x.shape == (4, channels, side, side) and x.dtype == torch.float32, name
        assert 0 <= float(x.min()) and float(x.max()) <= 1, name
        if model.family == "gan":
            assert d_logits(model, data).shape == (8 // model.pack,), name


@pytest.mark.parametrize("name, shape", [("dcgan", (3, 32, 32)), ("vae", (1, 64, 64)), ("cgan", (3, 64, 64)),
                                         ("ae", (3, 32, 32))])
def test_checkpoints_keep_the_shape(tmp_path, name, shape):
    data = bars(32, shape[0], shape[1])
    model = tiny(name).fit(data, seed=0, device="cpu")
    for sampler_only in (False, True):
        folder = model.save_pretrained(tmp_path / f"{name}-{sampler_only}", sampler_only=sampler_only)
        back = genzoo.load(folder)
        assert back.shape_ == shape
        assert torch.equal(back.sample(6, seed=3), model.sample(6, seed=3))
    back = genzoo.load(tmp_path / f"{name}-False")
    for k, v in model.nets_.state_dict().items():
        assert torch.equal(back.nets_.state_dict()[k], v), k


# ----------------------------------------------------------------------------- uint8 in training


def _as_float(data: Dataset) -> Dataset:
    return dataclasses.replace(data, x=as_float(data.x))


@pytest.mark.parametrize("name", ["dcgan", "ae", "vae"])
def test_uint8_images_train_bit_for_bit_as_their_float_conversion(name):
    """20 steps on uint8 images and on the same images as float32: the same history, the same
    weights (the AE's code Gaussian, fitted on the whole set 1,024 images at a time, included)."""
    data = bars(1100, 3, 16, seed=7)
    assert data.x.dtype == torch.uint8
    a = tiny(name, max_steps=20, batch_size=8).fit(data, seed=2, device="cpu")
    b = tiny(name, max_steps=20, batch_size=8).fit(_as_float(data), seed=2, device="cpu")
    assert a.history_ == b.history_ and len(a.history_) == 20
    sa, sb = a.nets_.state_dict(), b.nets_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert torch.equal(a.sample(8, seed=1), b.sample(8, seed=1))
    if name == "ae":
        assert torch.equal(a.encode(data.x[:5]), b.encode(as_float(data.x[:5])))


def test_fit_seeds_on_uint8_images_is_its_float_conversion():
    data = bars(64, 1, 28, seed=3)
    a = genzoo.fit_seeds(tiny("dcgan", max_steps=10), data, seeds=[0, 1], device="cpu")
    b = genzoo.fit_seeds(tiny("dcgan", max_steps=10), _as_float(data), seeds=[0, 1], device="cpu")
    assert [m.history_ for m in a] == [m.history_ for m in b]
    solo = tiny("dcgan", max_steps=10).fit(data, seed=1, device="cpu")
    assert [r["loss_d"] for r in a[1].history_] == pytest.approx([r["loss_d"] for r in solo.history_], rel=1e-4)


def test_the_training_set_stays_uint8_on_the_device():
    """What the loop draws from and hands the model at the end of training is the stored uint8
    set itself (on the CPU the same memory: no float copy of the set)."""
    seen = {}

    class Watch(type(genzoo.get_model("ae"))):
        def on_train_end(self, data_x, data_y):
            seen["end"] = data_x
            return super().on_train_end(data_x, data_y)

        def loss(self, ctx, state):
            seen.setdefault("stored", ctx.x)
            return super().loss(ctx, state)

    data = bars(32, 1, 28)
    Watch(genzoo.get_model("ae", "tiny", **SMALL).config).fit(data, device="cpu")
    assert seen["end"].dtype == torch.uint8 and seen["end"].data_ptr() == data.x.data_ptr()
    assert seen["stored"] is seen["end"]


def test_batches_are_converted_when_drawn():
    """A step context over uint8 images draws float32 batches, as_float then the model's scale: the
    same values as the items of the whole set converted at once."""
    from genzoo.training import StepContext

    data = bars(20, 3, 16)
    ctx = StepContext(data.x, data.y, 8, 0, torch.device("cpu"), lambda t: t * 2 - 1)
    whole = StepContext(as_float(data.x) * 2 - 1, data.y, 8, 0, torch.device("cpu"))
    for _ in range(4):                                                        # over an epoch's end
        (x, y), (xw, yw) = ctx.next_batch(), whole.next_batch()
        assert x.dtype == torch.float32 and torch.equal(x, xw) and torch.equal(y, yw)
    assert ctx.x is data.x


def test_check_data_takes_uint8_images_and_refuses_other_dtypes_in_one_line():
    data = bars(16, 1, 28)
    model = tiny("dcgan")
    model.check_data(data)                                                    # 0..255 uint8: accepted
    for x, match in ((data.x.long() // 255, r"dtype torch\.int64; genzoo models train on float32 in \[0, 1\] or uint8"),
                     (data.x.float(), r"must lie in \[0, 1\].*from 0 to 255 \(0\.\.255 pixels: divide them by 255, or "
                                      r"give them as uint8\)"),
                     (as_float(data.x).double(), r"dtype torch\.float64")):
        with pytest.raises(ValueError, match=match) as err:
            model.check_data(dataclasses.replace(data, x=x))
        assert "\n" not in str(err.value)
    points = genzoo.data.load("ring", n=64)
    with pytest.raises(ValueError, match=r"dtype torch\.float64; genzoo models train on float32 points"):
        tiny("gan").check_data(dataclasses.replace(points, x=points.x.double()))
