"""The W&B runs of one bench: :class:`WandbSession` starts them (mode, project, group, folder), and
every wandb call goes through :class:`Tracker`, which never raises: a failure (no network, a bad
key, a full disk) is logged once as a warning and the tracker goes quiet, so the benchmark and its
run records carry on. ``wandb`` itself is imported lazily, only when a run is tracked.
"""

from __future__ import annotations

import configparser
import logging
import math
import netrc
import os
import secrets
import shutil
import socket
import string
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger("genzoo.bench")

DEFAULT_PROJECT = "genzoo"
INIT_TIMEOUT_S = 30.0      # wandb.init gives up after this (WANDB_INIT_TIMEOUT overrides)
FINISH_TIMEOUT_S = 120.0   # run.finish stops waiting for uploads after this; data stays on disk
_OFF_MODES = ("disabled",)


def _settings_file_key() -> bool:
    """Whether wandb's settings file (``$WANDB_CONFIG_DIR/settings``, default
    ``~/.config/wandb/settings``, an INI file) holds an ``api_key``."""
    folder = Path(os.environ.get("WANDB_CONFIG_DIR") or Path.home() / ".config" / "wandb")
    parser = configparser.ConfigParser()
    try:
        parser.read(folder / "settings")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return False
    return any(parser.get(sec, "api_key", fallback="").strip() for sec in parser.sections())


def base_url() -> str:
    return os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai"


def has_api_key() -> bool:
    """Whether wandb would find credentials for its server, read from the documented places only
    (WANDB_API_KEY, WANDB_IDENTITY_TOKEN_FILE, the ``.netrc`` entry ``wandb login`` writes, wandb's
    settings file), without importing wandb, asking for a key or touching the network."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlsplit(base_url()).hostname or ""
    candidates = [os.environ["NETRC"]] if os.environ.get("NETRC") else [
        str(Path.home() / ".netrc"), str(Path.home() / "_netrc")]
    for path in candidates:
        try:
            entry = netrc.netrc(path).authenticators(host)
        except (OSError, netrc.NetrcParseError):
            continue
        if entry and entry[2]:
            return True
    return _settings_file_key()


def server_unreachable(timeout: float = 3.0) -> str | None:
    """Why the W&B server cannot be reached (a TCP connection to its host and port), or None
    when it can, or when a proxy is configured (then only wandb itself can tell)."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return None
    url = urlsplit(base_url())
    if not url.hostname:
        return f"WANDB_BASE_URL {base_url()!r} names no host"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError as exc:
        return f"{url.scheme}://{url.hostname}:{port} does not answer ({exc.strerror or type(exc).__name__})"
    return None


def resolve_mode(enabled: bool = True) -> tuple[str, str]:
    """``(mode, why)``: ``--no-wandb`` turns W&B off; a WANDB_MODE the user set wins;
    otherwise online when an API key is configured, offline when none is."""
    if not enabled:
        return "disabled", "--no-wandb"
    env = os.environ.get("WANDB_MODE", "").strip().lower()
    if os.environ.get("WANDB_DISABLED", "").strip().lower() in ("true", "1", "yes"):
        return "disabled", "WANDB_DISABLED"
    if env:
        return ("offline" if env == "dryrun" else env), "WANDB_MODE"
    if has_api_key():
        return "online", "an API key is configured"
    return "offline", "no API key is configured (WANDB_API_KEY or ~/.netrc)"


def _settings(init_timeout: float, git_root: str | None = None):
    import wandb

    # reinit "create_new": a run starts alongside the runs open in this process (the seeds trained
    # together each log to their own run), and leaves a caller's run, and wandb.run, alone
    wanted = {"init_timeout": init_timeout, "finish_timeout": FINISH_TIMEOUT_S,
              "console": "off", "silent": True, "disable_job_creation": True, "reinit": "create_new"}
    if git_root:
        wanted["git_root"] = git_root
    else:
        wanted["disable_git"] = True
    while True:  # drop what an older wandb does not know
        try:
            return wandb.Settings(**wanted)
        except Exception as exc:
            bad = [k for k in wanted if k in str(exc)]
            if not bad:
                return wandb.Settings()
            for k in bad:
                wanted.pop(k)


class Tracker:
    """One wandb run, or nothing (``run is None``): every method is safe to call either way."""

    def __init__(self, run=None, mode: str = "disabled"):
        self.run = run
        self.mode = mode
        self.failed: str | None = None

    @property
    def active(self) -> bool:
        return self.run is not None

    @property
    def run_dir(self) -> str | None:
        try:
            return str(Path(self.run.dir).parent) if self.run is not None else None
        except Exception:
            return None

    def _guard(self, what: str, fn, *args, **kwargs):
        if self.run is None:
            return None
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # never let W&B stop a benchmark
            self.failed = f"{what}: {type(exc).__name__}: {exc}"
            log.warning("W&B %s failed (%s: %s); going on without W&B for this run",
                        what, type(exc).__name__, exc)
            self._abandon()
            return None

    def _abandon(self) -> None:
        run, self.run = self.run, None
        try:
            run.finish(exit_code=1)
        except Exception:
            pass

    def log(self, data: dict, step: int | None = None) -> None:
        if self.run is None:
            return
        clean = {k: v for k, v in data.items() if not (isinstance(v, float) and not math.isfinite(v))}
        self._guard("log", self.run.log, clean, step=step)

    def log_images(self, images: dict, step: int | None = None) -> None:
        """``images``: name -> (H, W, 3) uint8 array (or anything wandb.Image takes), caption."""
        if self.run is None:
            return

        def do():
            import wandb

            self.run.log({k: wandb.Image(arr, caption=cap) for k, (arr, cap) in images.items()}, step=step)

        self._guard("image log", do)

    def summary(self, values: dict) -> None:
        if self.run is None:
            return

        def do():
            self.run.summary.update(values)

        self._guard("summary update", do)

    def log_table(self, key: str, columns: list[str], rows: list[list]) -> None:
        if self.run is None:
            return

        def do():
            import wandb

            self.run.log({key: wandb.Table(columns=columns, data=rows)})

        self._guard("table log", do)

    def finish(self, exit_code: int = 0) -> None:
        if self.run is None:
            return
        run, self.run = self.run, None
        try:
            run.finish(exit_code=exit_code)
        except Exception as exc:
            self.failed = f"finish: {type(exc).__name__}: {exc}"
            log.warning("W&B finish failed (%s: %s); the run's data stays in %s for `wandb sync`",
                        type(exc).__name__, exc, self.run_dir)


def _below_cwd(path: str | None) -> str | None:
    """``path`` relative to the working directory when it lies below it (so that a record names
    ``results/.../wandb/offline-run-*`` in any clone), else as it is."""
    if path is None:
        return None
    try:
        return str(Path(path).relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class WandbSession:
    """Starts the wandb runs of one benchmark invocation: same project, group, folder and mode.

    Online mode is tried once per session: a server that cannot be reached (checked before the
    first run) or a ``wandb.init`` that fails online switches the whole session to offline, with
    one warning, so a bench never waits for a dead server more than once. :meth:`close` shuts
    wandb's service process down, which writes every run's data to disk before it returns."""

    def __init__(self, *, project: str | None, group: str, root: Path, enabled: bool = True,
                 git_root: str | None = None):
        self.project = project or DEFAULT_PROJECT
        self.git_root = git_root
        self.group = group
        self.root = Path(root)              # wandb writes <root>/wandb/
        self.mode, self.why = resolve_mode(enabled)
        self.run_dirs: list[str] = []
        self.warnings: list[str] = []
        self._checked = False
        self._started = False

    @property
    def enabled(self) -> bool:
        return self.mode not in _OFF_MODES

    @property
    def wandb_dir(self) -> Path:
        return self.root / "wandb"

    def _go_offline(self, why: str) -> None:
        self.mode, self.why = "offline", why
        self._warn(f"W&B: {why}; logging offline for the rest of this session "
                   f"(`wandb sync {self.wandb_dir}/offline-run-*` uploads later)")

    def start(self, *, name: str, job_type: str, config: dict, tags=()) -> Tracker:
        """A tracked run, or a silent :class:`Tracker` when W&B is off or cannot start."""
        if not self.enabled:
            return Tracker()
        try:
            import wandb
        except Exception as exc:
            self._warn(f"cannot import wandb ({type(exc).__name__}: {exc}); W&B is off")
            self.mode = "disabled"
            return Tracker()
        if self.mode == "online" and not self._checked:
            self._checked = True
            why = server_unreachable()
            if why:
                self._go_offline(f"the server {why}")
        timeout = float(os.environ.get("WANDB_INIT_TIMEOUT", INIT_TIMEOUT_S))
        while True:
            mode = self.mode
            run_id = _new_run_id()
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                self._started = True
                # an absolute folder: wandb's service process keeps the working directory it started in
                run = wandb.init(project=self.project, group=self.group, job_type=job_type, name=name,
                                 config=config, tags=list(tags), dir=str(self.root.resolve()), mode=mode,
                                 id=run_id, settings=_settings(timeout, self.git_root))
            except Exception as exc:
                self._remove_run_folders(run_id)     # what the failed start left behind
                first = str(exc).splitlines()[0] if str(exc) else ""
                if mode != "offline":
                    self._go_offline(f"wandb.init ({mode}) failed for {name}: {type(exc).__name__}: {first}")
                    continue
                self._warn(f"wandb.init ({mode}) failed for {name}: {type(exc).__name__}: {first}; "
                           f"going on without W&B for this run")
                return Tracker()
            tracker = Tracker(run, mode)
            if tracker.run_dir:
                self.run_dirs.append(tracker.run_dir)
            return tracker

    def _remove_run_folders(self, run_id: str) -> None:
        for d in self.wandb_dir.glob(f"*run-*-{run_id}"):
            shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        """Flush every run of this session to disk: shut wandb's service process down (it
        writes each run's transaction log in full before it exits). Leaves alone a wandb run
        that is still open (the caller's own)."""
        if not self._started:
            return
        self._started = False
        try:
            import wandb

            if wandb.run is None:
                wandb.teardown()
        except Exception as exc:  # never let W&B stop a benchmark
            log.warning("W&B teardown failed (%s: %s)", type(exc).__name__, exc)

    def record_entry(self, tracker: Tracker) -> dict | None:
        """Where a started run's W&B data is, for its record (None when it is not tracked)."""
        if not tracker.active:
            return None
        return {"mode": tracker.mode, "run_id": getattr(tracker.run, "id", None), "project": self.project,
                "group": self.group, "dir": _below_cwd(tracker.run_dir)}

    def _warn(self, msg: str) -> None:
        self.warnings.append(msg)
        log.warning("%s", msg)

    def offline_dirs(self) -> list[str]:
        return [d for d in self.run_dirs if Path(d).name.startswith("offline-run-")]


def _new_run_id() -> str:
    """A W&B run id chosen here (8 lower-case letters and digits), so that the folder of a start
    that failed can be found and removed."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))
