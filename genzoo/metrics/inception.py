"""torchmetrics' InceptionV3 (the TF FID network ported by torch-fidelity), used only when a weights
file is already on disk: genzoo never downloads it."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"   # torch-fidelity's release file name
ENV_VAR = "GENZOO_INCEPTION_WEIGHTS"
CHANNELS = (1, 3)    # grayscale (repeated to 3 channels) or RGB: what the network takes
ANTIALIAS = True    # torchmetrics' default: antialiased bilinear resize to 299x299 (TF FID used none)


def hub_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def find_weights(explicit: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """(path or None, where it came from / why there is none).

    Order: ``explicit`` (must exist), ``$GENZOO_INCEPTION_WEIGHTS``, torch hub's checkpoint cache.
    """
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise FileNotFoundError(f"inception_weights={str(p)!r} is not a file")
        return p, "inception_weights="
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env)
        if p.is_file():
            return p, f"${ENV_VAR}"
        return None, f"${ENV_VAR}={env} is not a file"
    p = hub_weights_path()
    if p.is_file():
        return p, "torch hub cache"
    return None, (f"no InceptionV3 weights: pass inception_weights=, set ${ENV_VAR}, or put "
                  f"{WEIGHTS_FILE} in {p.parent}")


class InceptionV3(nn.Module):
    """Images (N, C, H, W) in [0, 1] -> 2048-d pool features and 1008 unbiased logits.

    Grayscale is repeated to 3 channels; pixels are rounded to uint8, which is what the network
    takes (it resizes to 299x299 and rescales itself).
    """

    num_features = 2048

    def __init__(self, weights: str | os.PathLike, antialias: bool = ANTIALIAS):
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        self.antialias = antialias
        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048", "logits_unbiased"],
                                      feature_extractor_weights_path=str(weights), antialias=antialias)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)                                    # (N, 3, H, W)
        u8 = (x.clamp(0, 1) * 255).round().to(torch.uint8)
        # NoTrainInceptionV3.forward returns only the first requested output; this returns all
        pool, logits = self.net._torch_fidelity_forward(u8)                 # (N, 2048), (N, 1008)
        return pool, logits
