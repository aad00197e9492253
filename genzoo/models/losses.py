"""The losses of the model families as small pure functions (after StudioGAN's ``utils/losses.py``).

A GAN variant is its losses: the discriminator's loss of ``(real_logits, fake_logits)``, the
generator's loss of ``fake_logits``, optionally a penalty on the discriminator, and the
diagnostics worth logging. Every function takes and returns tensors and keeps no state.
:class:`GANLosses` bundles a variant's three; a model picks its bundle once, when it is made.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F


class GANLosses(NamedTuple):
    """A GAN variant's losses: D's of ``(real_logits, fake_logits)``, G's of ``fake_logits``, and
    the values logged beside them, a dict of ``(real_logits, fake_logits)``."""

    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    diagnostics: Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


class EquilibriumLoss(NamedTuple):
    """What a model logs at the game's equilibrium D(x) = D(G(z)) = 1/2 (the claims about the 1010
    pattern read it): the logged key, its value there, and what it is in words."""

    key: str
    value: float
    what: str

# ------------------------------------------------------------------------ GAN (Goodfellow et al.)


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the discriminator of the original GAN."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def non_saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)): the generator loss used in practice (NS GAN)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def minimax_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))), minimised: the original minimax objective (MM GAN), which saturates."""
    return -F.softplus(fake_logits).mean()


def probability_diagnostics(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The discriminator's mean probability of real on real and on generated data."""
    return {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}


# ------------------------------------------------------------------- LSGAN (Mao et al. 2017)


def least_squares_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2 (targets b = 1 for real, a = 0 for fake)."""
    return 0.5 * (real_logits - 1).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def least_squares_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """1/2 E (D(G(z)) - 1)^2 (target c = 1)."""
    return 0.5 * (fake_logits - 1).pow(2).mean()


def mean_output_diagnostics(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The discriminator's (critic's) mean raw output on real and on generated data."""
    return {"d_real": real_logits.mean(), "d_fake": fake_logits.mean()}


# ------------------------------------------------- WGAN (Arjovsky et al. 2017), WGAN-GP (Gulrajani et al.)


def wasserstein_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E D(G(z)) - E D(x): the critic maximises the gap, an estimate of the Wasserstein-1 distance."""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E D(G(z))."""
    return -fake_logits.mean()


def wasserstein_diagnostics(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The critic's Wasserstein estimate and its mean output on real and on generated data."""
    d_real, d_fake = real_logits.mean(), fake_logits.mean()
    return {"wasserstein": d_real - d_fake, "d_real": d_real, "d_fake": d_fake}


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """E (||grad_x critic(x_hat)||_2 - 1)^2 at x_hat = e x + (1 - e) G(z), e ~ U[0, 1] given as
    ``noise`` (one value per item, drawn by the caller from its seeded generator)."""
    e = noise.view(-1, *([1] * (real.dim() - 1)))
    x_hat = (e * real + (1 - e) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


def drift_penalty(real_logits: torch.Tensor) -> torch.Tensor:
    """ProGAN's epsilon-drift term E D(x)^2 (Karras et al. 2018, weighted 0.001): keeps the
    critic's outputs on real data from drifting far from 0."""
    return real_logits.pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018; StyleGAN's, weighted gamma / 2): E ||grad_x D(x)||^2 on real
    data. ``real`` must require grad and ``real_logits`` be D(real), so that D runs once."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


@torch.no_grad()
def clip_weights(module: torch.nn.Module, clip: float) -> None:
    """WGAN's Lipschitz constraint: every weight of the critic clamped to [-clip, clip]."""
    for p in module.parameters():
        p.clamp_(-clip, clip)


# -------------------------------------------------------------------------- the variants' losses

NON_SATURATING = GANLosses(bce_d_loss, non_saturating_g_loss, probability_diagnostics)
MINIMAX = GANLosses(bce_d_loss, minimax_g_loss, probability_diagnostics)
BCE_LOSSES = {"non-saturating": NON_SATURATING, "minimax": MINIMAX}   # a config's ``loss`` names one
LEAST_SQUARES = GANLosses(least_squares_d_loss, least_squares_g_loss, mean_output_diagnostics)
WASSERSTEIN = GANLosses(wasserstein_d_loss, wasserstein_g_loss, wasserstein_diagnostics)


# -------------------------------------------------------------------------- AE / VAE


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reconstruction: -log p(x | z) of a Bernoulli decoder, summed over pixels, averaged over items."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dimensions, averaged over items."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / len(mu)
