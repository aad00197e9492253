"""Each family really learns: short CPU runs checked against what an untrained model does."""

from __future__ import annotations

import torch

import genzoo
from conftest import bar_class, bars

POINTS = dict(g_hidden=(128, 128, 128), d_hidden=(128, 128, 128), latent_dim=8, batch_size=256)


def nearest_mode_distance(x: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, means).min(1).values                               # (N,)


def test_gan_samples_end_near_the_ring_modes(ring_data):
    means = ring_data.meta["means"]
    untrained = genzoo.get_model("gan", preset="tiny", max_steps=1, **POINTS).fit(ring_data, seed=0)
    m = genzoo.get_model("gan", preset="tiny", max_steps=1000, lr_g=1e-3, lr_d=1e-3, **POINTS).fit(ring_data, seed=0)
    before = nearest_mode_distance(untrained.sample(2500, seed=1), means).median()
    after = nearest_mode_distance(m.sample(2500, seed=1), means).median()
    assert before > 0.5 and after < 0.1, (before, after)


def test_wgan_samples_move_to_the_ring(ring_data):
    # weight clipping at 0.01 leaves an MLP critic little capacity: WGAN approaches the modes slowly
    means = ring_data.meta["means"]
    untrained = genzoo.get_model("wgan", preset="tiny", max_steps=1, **POINTS).fit(ring_data, seed=0)
    m = genzoo.get_model("wgan", preset="tiny", max_steps=600, n_critic=5, lr=1e-3, **POINTS).fit(ring_data, seed=0)
    before = nearest_mode_distance(untrained.sample(2500, seed=1), means).median()
    after = nearest_mode_distance(m.sample(2500, seed=1), means).median()
    assert after < 0.5 * before, (before, after)
    assert all(torch.isfinite(torch.tensor(h["wasserstein"])) for h in m.history_)


def test_vae_reconstruction_error_falls(fashion_train):
    data = fashion_train.subset(4096)
    m = genzoo.get_model("vae", preset="tiny", width=16, latent_dim=8, max_steps=300, batch_size=64).fit(data, seed=0)
    recon = torch.tensor([h["recon"] for h in m.history_])
    assert recon[-30:].mean() < 0.6 * recon[:5].mean()
    assert (torch.tensor([h["kl"] for h in m.history_[-30:]]) > 0).all()
    x = genzoo.data.as_float(data.x[:64])
    err = ((m.reconstruct(x) - x) ** 2).mean()
    assert err < ((x.mean(0, keepdim=True) - x) ** 2).mean(), "reconstructions beat the mean image"


def test_ae_fitted_prior_beats_standard_normal_codes(fashion_train):
    data = fashion_train.subset(4096)
    m = genzoo.get_model("ae", preset="tiny", width=16, latent_dim=8, max_steps=300, batch_size=64).fit(data, seed=0)
    recon = torch.tensor([h["recon"] for h in m.history_])
    assert recon[-30:].mean() < 0.6 * recon[:5].mean()
    codes = m.encode(data.x[:1024])
    assert torch.allclose(m.nets_["prior"].mean, m.encode(data.x).mean(0), atol=1e-3)
    # the fitted Gaussian matches the codes' spread; N(0, I) codes do not
    fitted = m.sample(1024, seed=0, prior="fitted")
    normal = m.sample(1024, seed=0, prior="normal")
    assert not torch.equal(fitted, normal) and codes.std() > 0
    # the choice is per call: asking for "normal" once leaves the default ("fitted") as it was
    assert torch.equal(m.sample(1024, seed=0), fitted)
    # reconstructions decode the encoder's codes as they are, whatever the prior
    x = data.x[:16]
    assert torch.equal(m.reconstruct(x), torch.sigmoid(m.nets_["decoder"](m.encode(x))))


def test_dcgan_samples_move_towards_the_data(bars_data):
    ref = bars_data.x

    def gaps(model):
        x = model.sample(128, seed=1)
        nn_dist = torch.cdist(x.flatten(1), ref.flatten(1)).min(1).values.mean()
        mean_gap = ((x.mean(0) - ref.mean(0)) ** 2).mean()                  # mean images compared
        return nn_dist, mean_gap

    kw = dict(g_width=16, d_width=16, latent_dim=16, batch_size=64)
    untrained = gaps(genzoo.get_model("dcgan", preset="tiny", max_steps=1, **kw).fit(bars_data, seed=0))
    trained = gaps(genzoo.get_model("dcgan", preset="tiny", max_steps=250, **kw).fit(bars_data, seed=0))
    assert trained[0] < 0.9 * untrained[0] and trained[1] < 0.25 * untrained[1], (untrained, trained)


def test_cgan_samples_follow_the_label_asked_for():
    data = bars(1024)
    m = genzoo.get_model("cgan", preset="tiny", g_width=16, d_width=16, max_steps=300).fit(data, seed=0)
    labels = torch.arange(200) % 2
    x = m.sample(200, labels=labels, seed=3)
    assert (bar_class(x) == labels).float().mean() > 0.9
    balanced = m.sample(10)  # labels=None: balanced classes, 0 1 0 1 ...
    assert balanced.shape == (10, 1, 28, 28)
