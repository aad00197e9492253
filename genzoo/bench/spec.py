"""Benchmark files: small declarative TOML files in ``benchmarks/``, parsed into a run plan.

A benchmark file::

    [benchmark]
    name = "fashion"                 # optional: defaults to the file's stem
    description = "..."
    dataset = "fashion-mnist"        # a genzoo.data name
    dataset_options = {}             # passed to genzoo.data.load for both splits (n=, seed=)
    models = ["ae", "vae", "gan"]    # in run order; "all" (every registered model) or "family:gan"
                                     # (every model of a family, sorted) pick from the registry
    default_profile = "quick"        # optional: "quick" if there is one, else the first profile

    [defaults]                       # optional: keys shared by every profile
    n_samples = 2000

    [profiles.quick]                 # one table per profile
    only = ["ae", "family:gan"]      # optional: the models this profile trains (default: all of them;
                                     #   a family: its models in this benchmark)
    seeds = [0]
    preset = "default"
    train_subset = 10000
    epochs = 2                       # anything not a runner key is a model config override
    [profiles.quick.families.gan]    # keys for every model of a family (a config key only where
    epochs = 1                       #   the model's config has it), so a new model needs no entry
    [profiles.quick.models.wgan]     # per-model keys (runner keys or config overrides) win
    epochs = 4

    [profiles.tuned]                 # a profile may train each model at the best trial of a sweep
    settings_from = "results/sweeps/wide-s0/fashion"   # a folder `genzoo sweep` wrote (sweep.csv, runs/)
    settings_from_skip = ["ae"]      # optional: models trained at the profile's own keys instead

``settings_from``: each model of the profile is trained at its best trial's settings in that sweep
(best by the sweep's metric, the one its sweep.csv is ranked by, as the sweep report ranks them: the
trial's run with its lowest seed, ties to the lower trial; the best trial's re-runs do not choose).
The trial's settings (read from its run record, so floats are exact) replace the profile's keys
for the keys the sweep varied; every other key stays as the profile says, and must be what the
sweep's trials trained with (preset, config overrides, training data), else a one-line error: a
sweep of another budget does not feed a profile. A relative path is from the folder above the
benchmark file's folder (the repository root for ``benchmarks/*.toml``), whatever the working
directory. A model of the profile the sweep has no scored trial of is an error unless
``settings_from_skip`` lists it. Each run's record says where its settings came from
(``plan.settings_from``: the sweep as written, the trial, its metric and value, its settings).
``genzoo sweep`` itself plans its trials from the profile without ``settings_from`` (trial 0 stays
the defaults, and a sweep at a new budget does not read the stale one).

Runner keys (everything else in a profile or a per-model table goes to
``genzoo.get_model(name, preset=..., **overrides)``; an unknown key is an error there):
see :data:`RUNNER_KEYS`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..errors import UserError
from ..limits import MAX_SEED, MAX_SEEDS
from .runspec import RUNNER_KEYS, RunSettings, RunSpec
from .sweep_settings import BestTrial, best_trial, read_sweep, sweep_folder, trained_differently

__all__ = ["RUNNER_KEYS", "BestTrial", "Benchmark", "RunSettings", "RunSpec", "benchmark_dirs", "best_trial",
           "find_benchmark", "list_benchmarks", "load_benchmark", "parse_benchmark", "read_sweep"]

DEFAULT_PROFILE = "quick"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")     # a benchmark's name is a folder name, never a path

_TABLES = ("models", "families")      # sub-tables of a profile: per model, per model family
_MINIMUM = {"n_samples": 2, "per_class_samples": 2}        # integer runner keys that must be above 0
SETTINGS_FROM = ("settings_from", "settings_from_skip")     # a profile's settings from a sweep
_PROFILE_ONLY = {"seeds", "description", "dataset_options", *SETTINGS_FROM}     # not settable per model


@dataclass
class Benchmark:
    name: str
    path: Path
    dataset: str
    models: list[str]
    profiles: dict[str, dict]
    description: str = ""
    dataset_options: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    default_profile: str = DEFAULT_PROFILE
    sweeps: dict[str, dict] = field(default_factory=dict)   # [sweeps.<name>]: genzoo sweep's profiles

    def profile(self, name: str | None = None) -> dict:
        """The profile's table merged over ``[defaults]`` (``models`` tables merged per model)."""
        name = name or self.default_profile
        if name not in self.profiles:
            raise UserError(f"benchmark {self.name!r} has no profile {name!r}; "
                            f"choose one of {sorted(self.profiles)}")
        merged = copy.deepcopy(self.defaults)
        for key, value in copy.deepcopy(self.profiles[name]).items():
            if key in _TABLES:
                for who, table in value.items():
                    merged.setdefault(key, {}).setdefault(who, {}).update(table)
            else:
                merged[key] = value
        return merged

    def plan(self, profile: str | None = None, *, models: list[str] | None = None,
             seeds: list[int] | None = None, from_sweep: bool = True) -> list[RunSpec]:
        """The runs of ``profile``: models in file order (or ``models``), each seed in turn, each
        model at its best trial's settings where the profile has ``settings_from`` (``from_sweep``
        False: at the profile's own keys, as ``genzoo sweep`` plans its trials)."""
        profile = profile or self.default_profile
        from ..models import get_model_class

        table = self.profile(profile)
        source, skip = table.pop("settings_from", None), table.pop("settings_from_skip", [])
        best = self._sweep_best(profile, source) if source and from_sweep else None
        only = table.pop("only", None)
        per_model = table.pop("models", {})
        per_family = table.pop("families", {})
        runner = {k: table.pop(k) for k in list(table) if k in RUNNER_KEYS}
        shared_overrides = table                                      # what is left: config overrides
        seeds = list(seeds) if seeds is not None else list(runner.get("seeds", RUNNER_KEYS["seeds"][0]))
        if models is None:
            models = [m for m in self.models if only is None or m in only]
        models = list(models)
        specs = []
        for model in models:
            try:
                cls = get_model_class(model)
            except ValueError as exc:
                raise UserError(str(exc)) from None
            fields = {f.name for f in dataclasses.fields(cls.Config)}
            ftable = {k: v for k, v in per_family.get(cls.family, {}).items() if k in RUNNER_KEYS or k in fields}
            mtable = {**ftable, **per_model.get(model, {})}
            bad = sorted(set(mtable) & _PROFILE_ONLY)
            if bad:
                raise UserError(f"{self.path}: {bad} cannot be set per model (profile {profile!r}, model {model!r})")
            keys = {**runner, **{k: v for k, v in mtable.items() if k in RUNNER_KEYS}}
            overrides = {**shared_overrides, **{k: v for k, v in mtable.items() if k not in RUNNER_KEYS}}
            preset = keys.pop("preset", RUNNER_KEYS["preset"][0])
            keys.pop("seeds", None)
            base = RunSpec(self.name, profile, self.dataset, model, 0, preset, overrides, RunSettings.from_dict(keys))
            if best is not None and model not in skip:
                base = self._at_best_trial(base, source, best)
            for seed in seeds:
                specs.append(dataclasses.replace(base, seed=int(seed), overrides=copy.deepcopy(base.overrides)))
        return specs

    def _sweep_best(self, profile: str, source: str) -> dict[str, "BestTrial"]:
        """The best trial of each model in the sweep the profile's ``settings_from`` names."""
        try:
            return read_sweep(sweep_folder(self.path, source))
        except UserError as exc:
            raise UserError(f"{self.path} (profile {profile!r}): settings_from {source!r}: {exc}") from None

    def _at_best_trial(self, spec: RunSpec, source: str, best: dict[str, "BestTrial"]) -> RunSpec:
        """``spec`` at its model's best trial: the trial's settings over the profile's overrides,
        where they came from, and checked to train as the trial did (else a one-line UserError)."""
        where = f"{self.path} (profile {spec.profile!r}): settings_from {source!r}"
        trial = best.get(spec.model)
        if trial is None:
            raise UserError(f"{where}: the sweep has no scored trial of {spec.model!r} (it has "
                            f"{', '.join(sorted(best)) or 'none'}); sweep it too, or list it in settings_from_skip")
        spec = dataclasses.replace(
            spec, overrides={**spec.overrides, **copy.deepcopy(trial.settings)},
            settings_from={"sweep": source, "trial": trial.trial, "metric": trial.metric, "value": trial.value,
                           "settings": copy.deepcopy(trial.settings)})
        differ = trained_differently(spec, trial.record)
        if differ:
            raise UserError(f"{where}: {spec.model}'s trial {trial.trial} trained with another budget than this "
                            f"profile's ({'; '.join(differ)}); re-run the sweep at this profile's budget")
        return spec


def benchmark_dirs() -> list[Path]:
    """Where a benchmark named without a path is looked for, in order: $GENZOO_BENCHMARKS,
    ``./benchmarks``, and the ``benchmarks/`` folder beside the genzoo package's source tree."""
    dirs = []
    if os.environ.get("GENZOO_BENCHMARKS"):
        dirs += [Path(p) for p in os.environ["GENZOO_BENCHMARKS"].split(os.pathsep) if p]
    dirs.append(Path.cwd() / "benchmarks")
    dirs.append(Path(__file__).resolve().parents[2] / "benchmarks")
    seen, out = set(), []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def list_benchmarks() -> dict[str, Path]:
    """Benchmark name -> file, over :func:`benchmark_dirs` (the first folder holding a name wins)."""
    found: dict[str, Path] = {}
    for d in benchmark_dirs():
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def find_benchmark(name_or_path: str | os.PathLike) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.is_file():
        if not p.is_file():
            raise UserError(f"benchmark file {p} does not exist")
        return p
    known = list_benchmarks()
    if str(name_or_path) in known:
        return known[str(name_or_path)]
    looked = ", ".join(str(d) for d in benchmark_dirs())
    raise UserError(f"unknown benchmark {str(name_or_path)!r}; known: {sorted(known) or 'none'} "
                    f"(looked in {looked}; or pass a path to a .toml file)")


def load_benchmark(name_or_path: str | os.PathLike) -> Benchmark:
    """Parse and check a benchmark file, by name (``fashion``) or path (``my/bench.toml``)."""
    path = find_benchmark(name_or_path)
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    return parse_benchmark(doc, path)


def parse_benchmark(doc: dict, path: Path) -> Benchmark:
    def bad(msg: str):
        raise UserError(f"{path}: {msg}")

    unknown = sorted(set(doc) - {"benchmark", "defaults", "profiles", "sweeps"})
    if unknown:
        bad(f"unknown top-level table(s) {unknown}; expected [benchmark], [defaults], [profiles.*], [sweeps.*]")
    head = doc.get("benchmark")
    if not isinstance(head, dict):
        bad("missing the [benchmark] table")
    allowed = {"name", "description", "dataset", "dataset_options", "models", "default_profile"}
    unknown = sorted(set(head) - allowed)
    if unknown:
        bad(f"unknown key(s) {unknown} in [benchmark]; allowed: {sorted(allowed)}")
    if not isinstance(head.get("dataset"), str):
        bad("[benchmark] needs dataset = \"<name>\"")
    if "dataset_options" in head:
        _check_dataset_options(head["dataset_options"], "[benchmark]", bad)
    models = head.get("models")
    if models == "all":
        models = ["all"]
    if not (isinstance(models, list) and models and all(isinstance(m, str) for m in models)):
        bad("[benchmark] needs models = [\"<model>\", ...], \"all\" or [\"family:<family>\", ...]")
    if len(set(models)) != len(models):
        bad(f"models lists a model twice: {models}")
    models = _select_models(models, bad)
    profiles = doc.get("profiles")
    if not isinstance(profiles, dict) or not profiles:
        bad("needs at least one [profiles.<name>] table")
    defaults = doc.get("defaults", {})
    for pname, table in [("defaults", defaults), *profiles.items()]:
        if not isinstance(table, dict):
            bad(f"[profiles.{pname}] must be a table")
        where = "[defaults]" if pname == "defaults" else f"[profiles.{pname}]"
        if "only" in table:           # the models this profile trains: a subset of the benchmark's
            table["only"] = _check_only(table["only"], where, models, bad)
        _check_table({k: v for k, v in table.items() if k != "only"}, where, bad)
        _check_model_tables(table.get("models", {}), where, models, bad)
        _check_settings_from(table, where, models, bad)
    name = head.get("name", path.stem)
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        bad(f"[benchmark] name {name!r} must be letters, digits, '.', '_' and '-', starting with a letter or "
            f"digit (it names the folder OUT/<name>)")
    default_profile = head.get("default_profile") or (DEFAULT_PROFILE if DEFAULT_PROFILE in profiles
                                                      else next(iter(profiles)))
    if default_profile not in profiles:
        bad(f"default_profile {default_profile!r} is not one of the profiles {sorted(profiles)}")
    sweeps = doc.get("sweeps", {})
    for sname, table in sweeps.items():
        _check_sweep(sname, table, profiles, models, bad)
    return Benchmark(name=name, path=path, dataset=head["dataset"], models=list(models),
                     profiles=profiles, description=head.get("description", ""),
                     dataset_options=dict(head.get("dataset_options", {})), defaults=defaults,
                     default_profile=default_profile, sweeps=sweeps)


SWEEP_KEYS = {"profile": str, "models": list, "trials": int, "space": str, "rerun_seeds": int, "seed": int,
              "description": str}


def _check_sweep(name: str, table, profiles: dict, models: list[str], bad) -> None:
    """A ``[sweeps.<name>]`` table: the benchmark profile each trial trains with, the models, the
    number of trials, the space, how many seeds re-run the best trial."""
    where = f"[sweeps.{name}]"
    if not isinstance(table, dict):
        bad(f"{where} must be a table")
    unknown = sorted(set(table) - set(SWEEP_KEYS))
    if unknown:
        bad(f"{where}: unknown key(s) {unknown}; allowed: {sorted(SWEEP_KEYS)}")
    for key, kind in SWEEP_KEYS.items():
        if key in table and (not isinstance(table[key], kind) or isinstance(table[key], bool)):
            bad(f"{where}: {key} must be a {kind.__name__}, got {table[key]!r}")
    if table.get("profile", name) not in profiles:
        bad(f"{where}: profile {table.get('profile', name)!r} is not one of the profiles {sorted(profiles)}")
    stray = [m for m in table.get("models", []) if m not in models]
    if stray:
        bad(f"{where}: models {stray} are not the benchmark's")
    if not 0 <= table.get("seed", 0) <= MAX_SEED:
        bad(f"{where}: seed must be an integer from 0 to {MAX_SEED:,}, got {table['seed']:,}")
    if table.get("trials", 1) < 1 or table.get("rerun_seeds", 1) < 1:
        bad(f"{where}: trials and rerun_seeds must be at least 1")
    if table.get("space", "wide") not in ("wide", "narrow"):
        bad(f"{where}: space must be wide or narrow, got {table['space']!r}")


def _check_settings_from(table: dict, where: str, models: list[str], bad) -> None:
    """A profile's ``settings_from`` (a sweep folder) and ``settings_from_skip`` (model names of the
    benchmark): in a profile, not in ``[defaults]`` (a sweep is of one budget); the sweep itself is
    read when the profile is planned."""
    given = [k for k in SETTINGS_FROM if k in table]
    if given and where == "[defaults]":
        bad(f"{where}: {', '.join(given)} belongs in a profile (a sweep is of one profile's budget)")
    source, skip = table.get("settings_from"), table.get("settings_from_skip")
    if source is not None and not (isinstance(source, str) and source.strip()):
        bad(f"{where}: settings_from must be the path of a sweep folder, e.g. settings_from = "
            f"\"results/sweeps/wide-s0/fashion\"; got {source!r}")
    if skip is None:
        return
    if source is None:
        bad(f"{where}: settings_from_skip without settings_from")
    if not (isinstance(skip, list) and all(isinstance(m, str) for m in skip)):
        bad(f"{where}: settings_from_skip must be a list of model names, got {skip!r}")
    stray = [m for m in skip if m not in models]
    if stray:
        bad(f"{where}: settings_from_skip names {stray}, which the benchmark's models do not include")


def _select_models(entries: list[str], bad) -> list[str]:
    """Model names from ``[benchmark] models``: names, ``"all"`` and ``"family:<family>"`` entries
    expanded from the registry (sorted), in the order given, each model once."""
    from ..models import list_families, list_models

    out: list[str] = []
    for entry in entries:
        if entry == "all":
            names = list_models()
        elif entry.startswith("family:"):
            family = entry.split(":", 1)[1]
            if family not in list_families():
                bad(f"models: unknown family {family!r}; the registered models declare {list_families()}")
            names = list_models(family=family)
        elif entry in list_models():
            names = [entry]
        else:
            bad(f"models: unknown model {entry!r}; choose from {list_models()}, \"all\" or "
                f"\"family:<{'|'.join(list_families())}>\"")
        out += [n for n in names if n not in out]
    return out


def _check_only(only, where: str, models: list[str], bad) -> list[str]:
    """A profile's ``only``: the benchmark's models it trains (a family: its models in the benchmark)."""
    if where == "[defaults]":
        bad(f"{where}: only = [\"<model>\" | \"family:<family>\", ...] belongs in a profile")
    if not (isinstance(only, list) and only and all(isinstance(m, str) for m in only)):
        bad(f"{where}: only must be a list of model names or \"family:<family>\" entries, e.g. only = [\"gan\"]; "
            f"got only = {only!r}")
    chosen = _select_models(only, bad)                  # unknown names and families raise here
    stray = [m for m in only if ":" not in m and m != "all" and m not in models]
    if stray:
        bad(f"{where}: only names {stray}, which the benchmark's models do not include")
    return [m for m in chosen if m in models]


def _check_model_tables(tables: dict, where: str, models: list[str], bad) -> None:
    """``[<profile>.models.<model>]`` tables name models of the benchmark."""
    from ..models import list_models

    for model in tables:
        if model not in models:
            known = "" if model in list_models() else "; genzoo has no model of that name"
            bad(f"{where[:-1]}.models.{model}]: {model!r} is not one of the benchmark's models {models}{known}")


def _check_dataset_options(value, where: str, bad) -> None:
    """``dataset_options``: a table of simple values, passed to genzoo.data.load (which checks the names)."""
    if not (isinstance(value, dict) and all(isinstance(v, (str, int, float, bool)) for v in value.values())):
        bad(f"{where}: dataset_options must be a table of simple values (strings, numbers, true/false), "
            f"e.g. dataset_options = {{ n = 2000 }}; got {value!r}")


def _check_table(table: dict, where: str, bad) -> None:
    for key, value in table.items():
        if key in _TABLES:
            what = key[:-1] if key == "models" else "family"
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                bad(f"{where}: {key} must hold one [...{key}.<{what}>] table per {what}")
            for who, sub in value.items():
                if key == "families":
                    _check_family(who, sub, f"{where[:-1]}.families.{who}]", bad)
                _check_table(sub, f"{where[:-1]}.{key}.{who}]", bad)
            continue
        if key == "dataset_options":
            _check_dataset_options(value, where, bad)
        elif key in RUNNER_KEYS and not _valid_runner_value(key, value):
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:80] + "..."
            bad(f"{where}: {key} = {shown} is not valid ({RUNNER_KEYS[key][1]})")


def _valid_runner_value(key: str, value) -> bool:
    default = RUNNER_KEYS[key][0]
    if key == "seeds":
        return (isinstance(value, list) and 0 < len(value) <= MAX_SEEDS
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in value))
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and value >= _MINIMUM.get(key, 0)
    if key == "reference_split":
        return value in ("train", "test")
    if key == "score_at_steps":
        return (isinstance(value, list) and len(value) == len(set(value))
                and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in value))
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, type(default))


def _check_family(family: str, table: dict, where: str, bad) -> None:
    """A family table names a registered family, and each config key in it is a field of at
    least one of that family's models (it applies to those that have it)."""
    from ..models import get_model_class, list_families, list_models

    if family not in list_families():
        bad(f"{where}: unknown family {family!r}; the registered models declare {list_families()}")
    fields = set()
    for name in list_models(family=family):
        fields |= {f.name for f in dataclasses.fields(get_model_class(name).Config)}
    stray = sorted(k for k in table if k not in RUNNER_KEYS and k not in fields)
    if stray:
        bad(f"{where}: {stray} is a config key of no {family} model")
