"""Who holds a data dir: one `calltally up`, and one process per service.

Every service (``web``, ``recorder``, ``miner``, ``scheduler``, and ``up`` itself
as ``supervisor``) holds an exclusive lock on ``DATA_DIR/locks/<name>.lock``
from its start to its end, and writes there who it is. A second process for
the same name is refused with a message naming the holder. The kernel drops the
lock when its process ends, however it ends (``kill -9``, power loss), so a
lock is never stale: the file's content only names the holder in a refusal.

The locks are POSIX record locks (``lockf``), not ``flock``: a record lock
belongs to the process and is not inherited by a fork, so the Miner's forked
helper, which may outlive the Miner by a moment, never keeps the Miner's lock.
Their one trap is that closing *any* descriptor of the file drops the lock;
that is why a process never opens a lock file it holds a second time
(:data:`_held`). Without ``fcntl`` (not a POSIX system) nothing is locked.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from .control import SUPERVISOR

try:
    import fcntl
except ImportError:  # not POSIX: services are then not protected against a second copy
    fcntl = None

LOCK_DIR = "locks"
# The locks this process holds, by name; see the module's docstring for why it matters.
_held: dict[str, ServiceLock] = {}


@dataclass(frozen=True)
class Holder:
    """What a lock holder wrote of itself (None for a field it had not written yet)."""

    pid: int | None
    ppid: int | None
    since: str

    @classmethod
    def read(cls, path: Path) -> Holder:
        try:
            data = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            data = {}
        return cls(data.get("pid"), data.get("ppid"), data.get("since") or "")


def lock_path(name: str) -> Path:
    return Path(settings.DATA_DIR) / LOCK_DIR / f"{name}.lock"


class AlreadyRunning(CommandError):
    """Another process holds the name on this data dir; the message says which and what to do."""

    def __init__(self, name: str, holder: Holder):
        self.name = name
        self.holder = holder
        super().__init__(refusal(name, holder))


def refusal(name: str, holder: Holder) -> str:
    data_dir = settings.DATA_DIR
    pid = f"pid {holder.pid}" if holder.pid else "a process that is still starting"
    since = f", since {holder.since}" if holder.since else ""
    if name == SUPERVISOR:
        return (f"`calltally up` is already running for the data dir {data_dir} ({pid}{since}). "
                "Control its services with `calltally service list|stop|start|restart`, or stop it first "
                f"(Ctrl-C in its terminal, `systemctl stop calltally`, or `kill {holder.pid or 'PID'}`).")
    supervisor = holder_of(SUPERVISOR)
    if holder.ppid and supervisor is not None and supervisor.pid == holder.ppid:
        return (f"the {name} is already running for the data dir {data_dir}, under `calltally up` "
                f"(pid {supervisor.pid}): {pid}{since}. Use `calltally service stop|start|restart {name}` "
                "instead of starting another one.")
    return (f"the {name} is already running for the data dir {data_dir} ({pid}{since}), started on its own "
            f"(by hand or by systemd). Stop it first (`systemctl stop calltally-{name}`, or "
            f"`kill {holder.pid or 'PID'}`); two {name}s must never share a data dir.")


class ServiceLock:
    """The exclusive lock of one service name on this data dir, held until :meth:`release`."""

    def __init__(self, name: str):
        self.name = name
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`AlreadyRunning` naming the holder."""
        if self.held or fcntl is None:
            return
        if self.name in _held:
            raise AlreadyRunning(self.name, _own_holder())
        path = lock_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(path)
        if fd is None:
            raise AlreadyRunning(self.name, Holder.read(path))
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        text = json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "since": since}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, text + b"\n", 0)
        self.fd = fd
        _held[self.name] = self

    def release(self) -> None:
        if self.fd is None:
            return
        if _held.get(self.name) is self:
            del _held[self.name]
        fd, self.fd = self.fd, None
        os.close(fd)  # closing the descriptor drops the lock; the file stays, to be locked again


def _try_lock(path: Path) -> int | None:
    """The locked descriptor of ``path``, or None when another process holds it."""
    # os.open makes the descriptor non-inheritable: a child started by exec never holds it.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return None
        raise
    return fd


def _own_holder() -> Holder:
    return Holder(os.getpid(), os.getppid(), "")


def holder_of(name: str) -> Holder | None:
    """Who holds ``name`` on this data dir, or None when nobody does."""
    if name in _held:
        return _own_holder()
    if fcntl is None:
        return None
    path = lock_path(name)
    if not path.exists():
        return None
    # Taking the lock for an instant is the one portable way to ask whether it is held.
    fd = _try_lock(path)
    if fd is None:
        return Holder.read(path)
    os.close(fd)
    return None
