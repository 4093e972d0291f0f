"""The contract every collector (one way a PBX delivers records) follows.

A collector receives raw records for one connection and hands them to a
:class:`Sink`, which appends them to the site's spool and fsyncs them before it
returns: a collector acknowledges its sender (FTP transfer reply, HTTP 2xx)
only after ``sink`` has returned. Collectors run as asyncio tasks inside the
Recorder; blocking work (file I/O, fsync, a library's own server loop) goes
through ``asyncio.to_thread``. A collector never touches the database itself:
the Recorder gives it everything it needs, and its state goes through
:class:`Status`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from calltally.spool.services import SpoolFileResult


class ConfigError(ValueError):
    """A connection's parameters cannot work; the message says how to fix them."""


class Secret(str):
    """The help text of an option whose value is a secret.

    Declaring an option this way, in its kind's ``options``, is the one place that says it is a
    secret: it is then stored encrypted (or hashed), and shown as "(set)" by every listing, page
    and support bundle (see ``schema.py``, which every one of them asks).

    A secret CallTally must replay (a password it logs in with) is stored encrypted. One it only
    verifies (a password the PBX logs in with) names a one-way ``hasher`` and the parameter its
    hash is stored under (``hashed_as``). ``pieces`` gives the parts of a value that are secrets
    on their own (the passwords a login script sends), so that free text can be scrubbed of them.
    ``multiline``: the value may span lines (a key's text), for the forms that take it.
    """

    hashed_as: str
    hasher: Callable[[str], str] | None
    pieces: Callable[[str], list[str]] | None
    multiline: bool

    def __new__(cls, text: str, *, hashed_as: str = "", hasher: Callable[[str], str] | None = None,
                pieces: Callable[[str], list[str]] | None = None, multiline: bool = False):
        if bool(hashed_as) != (hasher is not None):
            raise TypeError("a hashed secret needs both hashed_as and hasher")
        self = super().__new__(cls, text)
        self.hashed_as, self.hasher, self.pieces, self.multiline = hashed_as, hasher, pieces, multiline
        return self

    @property
    def hashed(self) -> bool:
        return bool(self.hashed_as)


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """What a collector knows of its connection."""

    id: int
    site_code: str
    kind: str
    parameters: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where received records go (implemented by the Recorder over the spool)."""

    def append(self, records: list[bytes], source: str) -> int:
        """Append and fsync raw records (each without its line terminator); returns how many."""

    def append_file(self, path: Path, name: str, source: str, complete: bool = True) -> SpoolFileResult:
        """Spool what a received file adds to the spool: nothing for content already spooled, only
        what follows for a longer version of a file spooled before (see calltally.spool.services).
        ``complete=False``: the file may still grow, its unterminated last line is held back
        (``result.pending``) until the file comes again. ``result.describe()`` says what was done;
        ``result.warning`` is for the log and the connection's state."""


class Status(Protocol):
    """How a collector reports its state (shown by `calltally status`)."""

    def set(self, state: str, detail: str = "") -> None:
        """``state``: starting, listening, connected, polling, waiting, error, stopped."""

    def received(self, count: int) -> None:
        """``count`` records were just spooled."""

    def warn(self, text: str) -> None:
        """Something the administrator should see (an edited file, a cut record), kept as the
        connection's last error without changing its state."""


class Collector:
    """Base class of the collectors; one subclass per connection kind."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Option names and a one-line help each, for `calltally connection add --help` and the README.
    # The help of a secret option is a Secret: that declaration is the only list of secrets.
    options: ClassVar[dict[str, str]] = {}

    def __init__(self, config: ConnectionConfig, sink: Sink, status: Status):
        self.config = config
        self.sink = sink
        self.status = status

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise parameters before they are stored (hash passwords here). Secrets come
        in clear (decrypted) and go out in clear: encrypting them is ``schema.sealed``'s job. A message
        never repeats a secret's value.

        Raises :class:`ConfigError` with a message that says what to change.
        """
        return dict(parameters)

    async def run(self) -> None:
        """Receive until cancelled. Must survive a misbehaving peer; may raise only on a
        fault of its own configuration (the Recorder then retries with back-off)."""
        raise NotImplementedError

    async def test(self) -> str:
        """A quick check for `calltally connection test` (can it bind, connect, list…)."""
        return "no test for this kind"
