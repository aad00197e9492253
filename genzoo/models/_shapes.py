"""The image sizes genzoo's networks build for, and the depth each network takes from the size.

Every convolutional network here halves or doubles the side of its maps with stride-2 layers, so
an image side must come back to a small base by halving: genzoo builds for square images whose
side is ``7 * 2^k`` or ``4 * 2^k`` (:data:`IMAGE_SIDES`: 8, 14, 16, 28, 32, 56, 64, 112, 128),
any number of channels. From the side follow:

- :func:`up_layers`: the doublings from the base (7 or 4) to the side, the ``k`` of ``base * 2^k``:
  DCGAN's generator projects to the base and doubles ``k`` times (7x7 and 2 blocks at 28, 4x4 and
  3 blocks at 32, 4 at 64); the conv autoencoders halve ``k`` times down to the base and back;
- :func:`down_layers`: the halvings (rounding up) down to a side of 4 or less: DCGAN's
  discriminator (3 at 28 and 32: 14, 7, 4 or 16, 8, 4; 4 at 64), whose last convolution then
  covers the whole map, one logit per image;
- :func:`down_sides`: the sides of the maps from the image inward.

The largest side is 128 because the depths stay within the layout's limits (at most 5 layers, as
``g_layers`` / ``d_layers`` take: :class:`~genzoo.models._config.ConvLayout`).
"""

from __future__ import annotations

BASES = (7, 4)                      # the sides the stride-2 layers come back to
SMALLEST, LARGEST = 8, 128
IMAGE_SIDES = tuple(sorted(b * 2 ** k for b in BASES for k in range(1, 6) if SMALLEST <= b * 2 ** k <= LARGEST))


def sides_text() -> str:
    """The accepted sides in words: "8, 14, 16, ... or 128"."""
    return ", ".join(map(str, IMAGE_SIDES[:-1])) + f" or {IMAGE_SIDES[-1]}"


def image_refusal(shape: tuple[int, ...]) -> str | None:
    """Why images of item shape ``shape`` (C, H, W) cannot be built for, in a few words, or None."""
    if len(shape) != 3 or shape[0] < 1:
        return f"takes images of shape (C, H, W), got items of shape {tuple(shape)}"
    _, h, w = shape
    if h != w or h not in IMAGE_SIDES:
        return (f"builds its networks for square images of side {sides_text()} pixels (7 * 2^k or 4 * 2^k: "
                f"resize or pad them to one)")
    return None


def check_side(side: int) -> int:
    """``side`` when the networks build for it, else ValueError in one line."""
    if side not in IMAGE_SIDES:
        raise ValueError(f"genzoo's convolutional networks build for images of side {sides_text()} pixels "
                         f"(7 * 2^k or 4 * 2^k), got {side}")
    return side


def up_layers(side: int) -> int:
    """``k`` of ``side = base * 2^k`` (the base 7 or 4): stride-2 doublings from the base to the side."""
    side = check_side(side)
    k = 0
    while side not in BASES:
        side //= 2
        k += 1
    return k


def down_layers(side: int) -> int:
    """Stride-2 halvings (rounding up) from ``side`` down to a side of 4 or less."""
    sides = [check_side(side)]
    while sides[-1] > 4:
        sides.append(-(-sides[-1] // 2))
    return len(sides) - 1


def down_sides(side: int, layers: int) -> list[int]:
    """The sides of ``layers`` stride-2 layers' maps from an image of side ``side`` inward, each
    halving rounding up (28, 14, 7, 4, 2, ...); ``layers + 1`` entries."""
    sides = [side]
    while len(sides) <= layers:
        sides.append(-(-sides[-1] // 2))
    return sides
