"""Where a running ``make run`` can be found: a small state file, ``.local/stack.json`` by default.

``make run`` writes it once its moto server is provisioned (and again once the API serves) and removes it
when it stops. ``make admin`` and ``make invoke TARGET=local`` read it, so that neither needs
``AWS_ENDPOINT_URL`` nor credentials: they learn the endpoint, the region and the table names here, and
sign with the local runtime's fake credentials (``moto_server.use_endpoint``), which only ever go to
that loopback endpoint.

The file names no secret: only the endpoint, the region, the API's URL, the physical names of the tables
and buckets, and the process id. A file whose process is gone or whose endpoint no longer answers (a
``make run`` killed with SIGKILL) is stale: ``find_running`` says so rather than returning it.
``RL_LOCAL_STACK_FILE`` moves the file (the tests do, so as never to touch a developer's own).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from local.stack.template import ROOT

STATE_FILE_VARIABLE = "RL_LOCAL_STACK_FILE"
DEFAULT_STATE_FILE = ROOT / ".local" / "stack.json"
_CONNECT_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class LocalStackState:
    """What ``make run`` tells other processes about itself."""

    pid: int
    endpoint_url: str  # the moto server: the AWS_ENDPOINT_URL of the running stack
    region: str
    names: dict[str, str] = field(default_factory=dict)  # LOGS_TABLE, API_KEYS_TABLE, ... → physical name
    api_url: str | None = None  # the local API Gateway, once it serves


class StaleState(Exception):
    """A state file is there, but the ``make run`` it describes is not running any more."""


def state_path() -> Path:
    configured = os.environ.get(STATE_FILE_VARIABLE)
    return Path(configured) if configured else DEFAULT_STATE_FILE


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (127.0.0.0/8, ::1 or localhost): the only place fake
    credentials are sent."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def write_state(state: LocalStackState, path: Path | None = None) -> Path:
    """Write the state atomically (a reader never sees half a file)."""
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True)  # .local/ is in the repository's .gitignore
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
    os.replace(partial, path)
    return path


def remove_state(pid: int, path: Path | None = None) -> None:
    """Remove the state file if it still describes process ``pid`` (another ``make run`` may have replaced it)."""
    path = path or state_path()
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def read_state(path: Path | None = None) -> LocalStackState | None:
    """The state file as written, or None when there is none (or it is not one of ours)."""
    path = path or state_path()
    try:
        document = json.loads(path.read_text())
        return LocalStackState(
            pid=int(document["pid"]),
            endpoint_url=str(document["endpoint_url"]),
            region=str(document["region"]),
            names={str(name): str(value) for name, value in document.get("names", {}).items()},
            api_url=document.get("api_url"),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StaleState(f"{path} is not a state file of make run ({exc})") from exc


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _answers(endpoint_url: str) -> bool:
    parts = urlsplit(endpoint_url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=_CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def find_running(path: Path | None = None) -> LocalStackState | None:
    """The running ``make run``'s state; None when no state file exists; StaleState when it is stale."""
    path = path or state_path()
    state = read_state(path)
    if state is None:
        return None
    if not is_loopback(state.endpoint_url):
        raise StaleState(f"{path} names {state.endpoint_url}, which is not a loopback endpoint")
    if not _process_alive(state.pid) or not _answers(state.endpoint_url):
        raise StaleState(f"{path} describes a make run (pid {state.pid}) that is no longer running")
    return state


class NoLocalStack(Exception):
    """No running ``make run`` to be found: the message is the one line a command prints."""


def require_running(hint: str) -> LocalStackState:
    """The running ``make run``'s state, or NoLocalStack saying why not and, after it, ``hint`` (what the
    command's user can do instead)."""
    try:
        state = find_running()
    except StaleState as exc:
        raise NoLocalStack(f"{exc}: start it again (make run), or {hint}") from exc
    if state is None:
        raise NoLocalStack(
            f"no local stack is running (make run writes {state_path()} while it runs) and AWS_ENDPOINT_URL is "
            f"not set: start make run, or {hint}"
        )
    return state
