"""The configs line up with the models: one adversarial base for every GAN's config, each shared
field's limits declared once (in a small mixin, genzoo/models/_config.py) and enforced wherever it
is used, the losses picked when a model is made, the claims reading what a model declares, and the
search-space dimensions in a leaf module."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys

import pandas as pd
import pytest

import genzoo
from genzoo.models import get_model_class, losses
from genzoo.models.adversarial import AdversarialConfig, RemediesConfig
from genzoo.models.base import BaseConfig
from genzoo.report import claims
from genzoo.report.records import load_benchmark

GANS = genzoo.list_models(family="gan")
ALL = genzoo.list_models()
# every class a registered config is made of (BaseConfig, the mixins, the configs themselves)
PARTS = list(dict.fromkeys(k for n in ALL for k in get_model_class(n).Config.__mro__ if issubclass(k, BaseConfig)))


def declaring(cls: type, table: str, name: str) -> list[type]:
    """The classes of ``cls``'s MRO whose own ``table`` (LIMITS, CHOICES) names ``name``."""
    return [k for k in cls.__mro__ if name in vars(k).get(table, {})]


@pytest.mark.parametrize("name", GANS)
def test_every_gan_config_is_an_adversarial_config(name):
    cls = get_model_class(name)
    assert issubclass(cls.Config, AdversarialConfig)
    m = genzoo.get_model(name)
    assert m.n_critic == m.config.n_critic >= 1
    if not issubclass(cls.Config, RemediesConfig):            # cGAN: the model declares what its config lacks
        assert (m.pack, m.replay) == (1, 0.0)


@pytest.mark.parametrize("name", ALL)
def test_each_limit_and_choice_is_declared_once(name):
    """A field's range (or its choices) is written in one class of the config's MRO."""
    cfg = get_model_class(name).Config
    for f in dataclasses.fields(cfg):
        for table in ("LIMITS", "CHOICES"):
            assert len(declaring(cfg, table, f.name)) <= 1, (name, table, f.name, declaring(cfg, table, f.name))


def out_of_range(limit: str) -> float:
    """A value outside a LIMITS range ("> 0", ">= 1", "[0, 1)", ...)."""
    m = re.match(r"^\s*(>=|>|<=|<)\s*(\S+)\s*$", limit)
    if m:
        bound = float(m.group(2))
        return bound - 1 if m.group(1).startswith(">") else bound + 1
    lo, hi = (float(v) for v in re.findall(r"[-\d.e]+", limit))
    return hi + 1


def declared_limits() -> list[tuple[type, str, str]]:
    """(class, field, its limit) for every limit a class of a registered config declares."""
    return [(part, field, limit) for part in PARTS for field, limit in vars(part).get("LIMITS", {}).items()]


@pytest.mark.parametrize("part,field,limit", declared_limits(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_declared_limit_is_enforced_in_every_config_that_uses_it(part, field, limit):
    users = [n for n in ALL if issubclass(get_model_class(n).Config, part)]
    bad = out_of_range(limit)
    for name in users:
        hint = str({f.name: f.type for f in dataclasses.fields(get_model_class(name).Config)}[field])
        value = (int(bad),) if "tuple" in hint else int(bad) if "int" in hint else bad
        with pytest.raises(ValueError, match=rf"^{re.escape(name)}: {field}( entries)? must be"):
            genzoo.get_model(name, **{field: value})


WITH_LOSS_OPTION = [n for n in ALL if "loss" in {f.name for f in dataclasses.fields(get_model_class(n).Config)}]


@pytest.mark.parametrize("name", WITH_LOSS_OPTION)
def test_the_loss_choice_is_enforced_and_picks_the_losses_once(name):
    with pytest.raises(ValueError, match=rf"^{re.escape(name)}: loss must be 'non-saturating' or 'minimax'"):
        genzoo.get_model(name, loss="hinge")
    m = genzoo.get_model(name, loss="minimax")
    assert (m.d_loss, m.g_loss, m.diagnostics) == losses.MINIMAX
    assert genzoo.get_model(name).g_loss is losses.non_saturating_g_loss


@pytest.mark.parametrize("name,want", [("lsgan", losses.LEAST_SQUARES), ("wgan", losses.WASSERSTEIN),
                                       ("wgan-gp", losses.WASSERSTEIN), ("dcgan", losses.NON_SATURATING)])
def test_a_variant_is_its_losses(name, want):
    m = genzoo.get_model(name)
    assert (m.d_loss, m.g_loss, m.diagnostics) == want


def test_the_remedy_checks_hold_for_every_config_with_the_remedies():
    for name in [n for n in GANS if issubclass(get_model_class(n).Config, RemediesConfig)]:
        with pytest.raises(ValueError, match=rf"^{re.escape(name)}: batch_size must be a multiple of pack"):
            genzoo.get_model(name, pack=3, batch_size=64)
        with pytest.raises(ValueError, match="two alternatives"):
            genzoo.get_model(name, minibatch_std=True, minibatch_discrimination=True)


def test_a_mixin_field_declared_again_keeps_its_place():
    """asdict order (run records, config.json): BaseConfig's fields, then the mixins', then the
    config's own; a default given again does not move a field."""
    names = [f.name for f in dataclasses.fields(get_model_class("wgan").Config)]
    assert names[:4] == [f.name for f in dataclasses.fields(BaseConfig)]
    assert names.index("n_critic") < names.index("g_width") and names[-3:] == ["lr", "beta1", "ema"]
    assert get_model_class("wgan").Config().n_critic == 5


# ----------------------------------------------------------------------------- the claims
def write_run(results, model, seed, loss_key, loss):
    run = results / "pattern-1010" / "runs" / f"{model}-s{seed}"
    run.mkdir(parents=True)
    record = {"benchmark": "pattern-1010", "model": model, "dataset": "pattern-1010", "seed": seed,
              "profile": "smoke", "status": "ok", "reason": None, "config": {}, "train": {}, "versions": {},
              "git_commit": "abc1234", "device": "cpu", "wall_time_s": 1.0, "throughput": {},
              "metrics": {"precision": 0.3}, "higher_is_better": {"precision": True}, "notes": [],
              "per_class": None, "created": f"2025-01-01T00:00:0{seed}"}
    (run / "record.json").write_text(json.dumps(record))
    pd.DataFrame({"step": range(1, 11), "d_real": [0.5] * 10, "d_fake": [0.5] * 10,
                  loss_key: [loss] * 10}).to_csv(run / "history.csv.gz", index=False)


def test_the_equilibrium_claim_reads_what_the_model_declares(tmp_path, monkeypatch):
    for seed in range(3):
        write_run(tmp_path, "gan", seed, "loss_g", math.log(2))
        write_run(tmp_path, "wgan", seed, "loss_d", -1.0)
    bench = load_benchmark("pattern-1010", tmp_path)
    assert [c.label for c in claims.claim_equilibrium(bench).comparisons] == [
        "gan D(x) near 0.5", "gan D(G(z)) near 0.5", "gan generator BCE loss ln 2 near 0.693"]
    wgan = get_model_class("wgan")
    monkeypatch.setattr(wgan, "equilibrium_loss", losses.EquilibriumLoss("loss_d", -1.0, "critic loss -1"))
    labels = [c.label for c in claims.claim_equilibrium(bench).comparisons]
    assert labels[3:] == ["wgan D(x) near 0.5", "wgan D(G(z)) near 0.5", "wgan critic loss -1 near -1"]
    monkeypatch.setattr(get_model_class("gan"), "equilibrium_loss", None)
    monkeypatch.setattr(wgan, "equilibrium_loss", None)
    c = claims.claim_equilibrium(bench)            # no model of the benchmark declares one: nothing to test
    assert not c.comparisons and c.reason == "lsgan has no records in this benchmark"


def test_the_equilibrium_claim_names_the_declaring_models(tmp_path):
    assert claims.equilibrium_loss("ae") is None and claims.equilibrium_loss("no-such-model") is None
    assert claims.equilibrium_loss("lsgan") == ("loss_d", 0.25, "discriminator MSE loss 1/4")
    write_run(tmp_path, "wgan", 0, "loss_d", -1.0)                   # a model that declares none
    assert claims.claim_equilibrium(load_benchmark("pattern-1010", tmp_path)).reason == \
        "neither gan nor lsgan has records in this benchmark"


# ----------------------------------------------------------------------------- the search space
def test_the_dimensions_live_in_a_leaf_module_and_the_models_do_not_import_the_sweep():
    code = ("import sys, genzoo.space, genzoo.models; "
            "print(sorted(m for m in sys.modules if m.startswith('genzoo.sweep')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    from genzoo import space
    from genzoo.sweep import space as sweep_space
    assert all(getattr(sweep_space, n) is getattr(space, n) for n in space.__all__)
