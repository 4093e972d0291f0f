"""*Test connection*: can this connection work, said in words (the connection pages and the wizard).

A kind that listens (ftp, tcp-listen) is tried by binding its port: free means the Recorder will be
able to listen there; taken, while the connection's state says the Recorder listens, means the
Recorder holds it — as it should; taken otherwise means another program holds it. http-push is
served by the web server itself. A kind that fetches (sftp-pull, tcp-connect) connects, with a short
timeout; folder and serial check their folder or device. The answer never holds a secret.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from . import collector_class, schema
from .base import ConfigError, ConnectionConfig

TIMEOUT = 10.0  # seconds: a page waits for the answer
LISTENING = ("ftp", "tcp-listen")
HELD_BY_RECORDER = ("listening", "connected")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


class _NoSink:
    def append(self, records, source):
        return len(records)

    def append_file(self, path, name, source, complete=True):
        raise ConfigError("a test receives nothing")


class _NoStatus:
    def set(self, state, detail=""):
        pass

    def received(self, count):
        pass

    def warn(self, text):
        pass


def run_test(kind: str, parameters: dict, connection_id: int | None = None, site_code: str = "",
             timeout: float = TIMEOUT) -> Outcome:
    """The kind's own test on ``parameters`` as stored (secrets sealed), within ``timeout`` seconds."""
    try:
        cls = collector_class(kind)
        config = ConnectionConfig(connection_id or 0, site_code, kind,
                                  schema.opened(kind, parameters, connection_id))
        collector = cls(config, _NoSink(), _NoStatus())
        text = asyncio.run(asyncio.wait_for(collector.test(), timeout))
    except TimeoutError:
        return Outcome(False, f"No answer within {timeout:g} seconds.")
    except (ConfigError, ValueError, ImportError, OSError) as exc:
        return Outcome(False, schema.scrubbed(str(exc), kind, parameters))
    text = schema.scrubbed(str(text), kind, parameters)
    return Outcome(not text.startswith("FAILED"), text)


def try_connection(kind: str, parameters: dict, connection_id: int | None = None, site_code: str = "",
                    state: str = "", enabled: bool = True, timeout: float = TIMEOUT) -> Outcome:
    """Whether a connection can work, in words; ``state`` is its live state (ConnectionState)."""
    outcome = run_test(kind, parameters, connection_id, site_code, timeout)
    if kind in LISTENING:
        if not outcome.ok and state in HELD_BY_RECORDER:
            return Outcome(True, f"The running Recorder holds this port and is {state} on it: the PBX can send "
                                 f"its records now. ({outcome.text})")
        if outcome.ok and connection_id and enabled:
            return Outcome(True, f"{outcome.text} The port is free: no Recorder listens on it yet (start the "
                                 "Recorder, or wait a few seconds for it to pick this connection up).")
        if not outcome.ok:
            return Outcome(False, f"{outcome.text} Another program holds the port: choose another port, or "
                                  "stop that program.")
    if not enabled and outcome.ok:
        return Outcome(True, f"{outcome.text} The connection is disabled: enable it to receive records.")
    return outcome
