"""The size limits genzoo checks before any work starts, in one place (a leaf module: it imports
nothing, so the command line can check its options without importing torch).

Each limit is stated in the message of the error that refuses a value beyond it.
"""

from __future__ import annotations

# Seeds: what torch.manual_seed, numpy's default_rng and every derived seed genzoo uses
# (a run's sample seed is 10,000 + its seed) take without overflow, with room to spare.
MAX_SEED = 2**31 - 1

# Seeds of `sample(n, seed=...)`: any a torch.Generator takes, so that the seeds genzoo derives from
# a training seed (the runner scores samples of seed 10,000 + s) are never refused.
MAX_SAMPLE_SEED = 2**63 - 1

# Seeds of one command (`--seeds 0-99999`): each is a run, recorded in a folder of its own.
MAX_SEEDS = 10_000

# Output of one `sample(n)` call: n items of float32, at most this many bytes (2 GiB). Larger
# sets are drawn in several calls (`score` and the runner never need more than 26,000 items).
MAX_SAMPLE_BYTES = 2**31

# Items of a dataset: fewer can be neither fitted (batch norm and the batch statistics compare the
# items of a batch) nor scored.
MIN_ITEMS = 2

# Training batch: at most this many items per batch (and never more than the data holds).
MAX_BATCH_SIZE = 1 << 20


def max_samples(item_numel: int) -> int:
    """The largest ``n`` one ``sample(n)`` call returns for items of ``item_numel`` float32 values."""
    return max(1, MAX_SAMPLE_BYTES // (4 * max(1, int(item_numel))))


def check_seed(seed, what: str = "seed", limit: int = MAX_SEED) -> int:
    """``seed`` as an int, or ValueError naming ``what`` and the accepted range (0 to ``limit``)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"{what} must be an integer from 0 to {limit:,}, got {seed!r}")
    if not 0 <= seed <= limit:
        raise ValueError(f"{what} must be an integer from 0 to {limit:,}, got {seed:,}")
    return int(seed)
