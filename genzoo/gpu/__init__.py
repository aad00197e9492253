"""``python -m genzoo.gpu``: the paper study on a bare GPU machine, within a time budget, resumable.

Made for a machine lent for a short window (a shared GPU node, a spot instance): its python3 with
torch, torchmetrics, scipy, pandas, h5py, safetensors and tqdm, genzoo's source on ``PYTHONPATH``
(no install, no wandb, no Ray, no nox, no matplotlib), no network. One command::

    PYTHONPATH=. python3 -m genzoo.gpu --data data/fashion --budget 8m --out results/gpu

reads Fashion-MNIST from ``--data`` (the four ``.gz`` files), and does, in this order, what is not
done yet under ``--out``:

1. **profiles**: the ``--profile`` (default ``paper``) of every benchmark whose data it has
   (fashion, modes-ring, modes-grid, pattern-1010, modes-stacked; MNIST, CIFAR-10 and CelebA when
   their files are in ``--data`` too), through :func:`genzoo.bench.run_benchmark`: the bench's own
   planning, execution and records (``OUT/<benchmark>/runs/<run>/record.json``), packed seeds and
   compiled steps on CUDA (``--compile``, ``--pack``);
2. **speed**: ``genzoo speed``'s measurements of :data:`SPEED_MODELS` (plain loop, eager, compiled,
   packed eager and compiled), one model at a time (``OUT/speed/<device>.rows.json``), then its
   table (``OUT/speed/<device>.md`` and ``.csv``);
3. **sweeps**: the benchmarks' ``[sweeps.<profile>]`` trials (:func:`genzoo.sweep.run.run_sweep`:
   ``OUT/sweeps/...``).

The budget (``--budget 8m``) is a deadline: no run starts after it, and at the deadline the run in
progress is cut (a :class:`~genzoo.errors.BudgetSpent` raised in the main thread, as Ctrl-C would
be: the bench records nothing for it). Every finished run has its record, written whole (a file
renamed into place), so the same command, called again, skips what has a record and redoes the
run that was cut. Exit status: 0 when everything is done, :data:`EXIT_BUDGET` when the budget
ran out first (call it again), 2 for bad input.
"""

from .script import EXIT_BUDGET, PARTS, SPEED_MODELS, main, parse_budget

__all__ = ["EXIT_BUDGET", "PARTS", "SPEED_MODELS", "main", "parse_budget"]
