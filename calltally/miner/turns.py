"""Mining a backlog in two processes that take turns.

Reading and parsing a batch, making its rows (numbering, rating) and writing
them are mostly CPU work. With a large backlog (a big import, a Miner catching
up after a burst) the Miner forks a *partner*: the two processes take the
batches of a day file in turn, each making and writing its own, so both cores
work and no row ever crosses from one process to the other.

Two things must stay in spool order, and pass between the two as batons:

* **parsing** — a driver may carry state from one record to the next (the
  Cisco header line): a process parses batch *k* from the offset and driver
  state that parsing batch *k − 1* left, then hands the next offset and state
  over, and only then makes its rows;
* **committing** — each batch moves the checkpoint from where the batch
  before left it (``UPDATE … WHERE mined_offset = old``, the Miner's claim)
  and merges legs with the rows already stored: a process commits batch *k*
  once its partner says batch *k − 1* is committed.

Everything between (classification, numbering, rating, row building) runs on
both cores at once. Exactly-once is the claim's, as always: a process killed at
any moment leaves whole committed batches, and the next run starts from the
checkpoint. The partner ends with its parent (it reads the parent's end of a
pipe, which the kernel closes when the parent dies), and never outlives the
run. The decision to fork is taken before every batch, so a backlog that grows
while the Miner works (a burst streamed over TCP) is soon mined by two.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connections

from calltally.forking import helper_allowed

log = logging.getLogger("calltally.miner")

# Below this much unread spool one process mines alone: a fork costs more than it saves
# on a few records (the live Miner usually reads a handful).
MIN_BACKLOG_BYTES = 4 * 1024 * 1024
# How long a process waits for a message before it checks that its partner still lives.
POLL_SECONDS = 1.0

_PARSE, _END, _COMMITTED, _FAILED = "parse", "end", "committed", "failed"


def worth_it(backlog_bytes: int) -> bool:
    """Whether to fork a partner for this much unread spool."""
    return backlog_bytes >= MIN_BACKLOG_BYTES and helper_allowed()


class Job(Protocol):
    """What a run mines: how to read, make and commit one batch."""

    def read(self, offset: int, state: Any) -> tuple[Any, int, Any] | None:
        """(what was read and parsed, the offset after it, the driver state after it),
        or None when nothing is left from ``offset``."""

    def make(self, parsed: Any) -> Any:
        """The batch's rows (a :class:`~calltally.miner.pipeline.Batch`), not written."""

    def commit(self, batch: Any, offset: int, end: int, state: Any) -> Any:
        """Write the batch in one transaction; returns what the run reports of it
        (its summary). Raises to stop the run (another process mined it first)."""

    def backlog(self, offset: int) -> int:
        """Bytes left to mine from ``offset``."""

    def before_fork(self) -> None:
        """Load what both processes will need, once, before the partner is forked."""


@dataclass
class Outcome:
    """What a run did: the reports of every committed batch, in order."""

    reports: list
    offset: int  # where the run stopped
    partner_used: bool = False


class PartnerFailed(RuntimeError):
    """The partner process failed or ended unexpectedly; what was committed stays."""


class Stop(Exception):  # noqa: N818 - a request, not an error
    """Raised by a job's commit to end the run quietly (another process mined the batch)."""


def run(job: Job, offset: int, state: Any, after_batch: Callable[[Any], bool | None] | None = None,
        max_batches: int | None = None, label: str = "") -> Outcome:
    """Mine from ``offset`` until nothing is left (see :func:`_run`), the cycle collector paused."""
    with cycle_collection_paused():
        return _run(job, offset, state, after_batch, max_batches, label)


def _run(job: Job, offset: int, state: Any, after_batch, max_batches: int | None, label: str) -> Outcome:
    """Mine from ``offset`` until nothing is left, alone or with a partner process.

    ``after_batch(report)`` is called in this process for every committed batch
    (the partner's too, once this process hears of it); true stops the run
    after the batches under way.
    """
    out = Outcome([], offset)
    partner: _Partner | None = None
    committed_before = True  # whether the batch before this process's next one is committed
    stopping = False
    try:
        while True:
            if partner is None and not stopping and max_batches is None and worth_it(job.backlog(offset)):
                partner = _Partner.start(job, label)
                out.partner_used = True
            # This process's parse turn: (offset, state) is where the batch before ended.
            if stopping:
                read = None
            else:
                read = job.read(offset, state)
            if read is None:
                if partner is not None:
                    partner.send(_END)
                    partner.drain(out, after_batch)
                break
            parsed, end, after_state = read
            if partner is not None:
                partner.send(_PARSE, end, after_state)
            batch = job.make(parsed)
            if partner is not None and not committed_before:
                partner.wait_committed(out, after_batch)
            report = job.commit(batch, offset, end, after_state)
            out.reports.append(report)
            out.offset = end
            if partner is not None:
                partner.send(_COMMITTED, report)
            if after_batch is not None and after_batch(report):
                stopping = True
            if max_batches is not None and len(out.reports) >= max_batches:
                stopping = True
            if partner is None:
                offset, state = end, after_state
                continue
            # The partner parses the next batch; this process's next turn is the one after.
            message = partner.wait_parse(out, after_batch)
            if message is None:  # the partner found nothing more to read
                partner.drain(out, after_batch)
                break
            offset, state = message
            committed_before = False
            if stopping:
                partner.send(_END)
                partner.drain(out, after_batch)
                break
    finally:
        if partner is not None:
            partner.close()
    return out


@contextlib.contextmanager
def cycle_collection_paused():
    """Python's cycle collector paused for a run.

    A run makes and drops millions of objects with no reference cycle (records,
    rows, strings), which reference counting frees; the collector would still walk
    every long-lived object (the caches, Django) again and again: a fifth of the
    Miner's time. Freezing moves what exists now out of its sight, and it pauses
    until the run ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


class _Partner:
    """The other process, seen from the Miner: a pipe to it and its process."""

    def __init__(self, process, pipe, label: str):
        self.process = process
        self.pipe = pipe
        self.label = label
        self.pending: list = []  # messages read while waiting for another kind

    @classmethod
    def start(cls, job: Job, label: str) -> _Partner:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        job.before_fork()
        # A fork must not share the database connection: each process opens its own.
        connections.close_all()
        process = context.Process(target=_partner_main, args=(job, theirs, ours, os.getpid()),
                                  name=f"calltally-miner-{label}", daemon=True)
        process.start()
        theirs.close()
        log.info("%s: a second process mines the backlog in turn with this one (pid %d)", label, process.pid)
        return cls(process, ours, label)

    def send(self, kind: str, *values) -> None:
        # The partner may have finished (or failed: the next receive says so).
        with contextlib.suppress(BrokenPipeError, OSError):
            self.pipe.send((kind, *values))

    def receive(self):
        while True:
            if self.pipe.poll(POLL_SECONDS):
                try:
                    return self.pipe.recv()
                except EOFError:
                    return None
            if not self.process.is_alive():
                if self.pipe.poll(0):
                    continue
                return None

    def wait_for(self, wanted: str, out: Outcome, after_batch) -> tuple | None:
        """The next message of a kind, handling the partner's reports on the way."""
        while True:
            message = self.receive()
            if message is None:
                raise PartnerFailed(f"the Miner's helper process for {self.label} ended unexpectedly "
                                    f"(exit code {self.process.exitcode}); committed batches stay")
            kind = message[0]
            if kind == _FAILED:
                raise PartnerFailed(f"the Miner's helper process for {self.label} failed:\n{message[1]}")
            if kind == _COMMITTED:
                out.reports.append(message[1])
                if after_batch is not None:
                    after_batch(message[1])
            if kind == wanted or (wanted == _PARSE and kind == _END):
                return message

    def wait_committed(self, out: Outcome, after_batch) -> None:
        self.wait_for(_COMMITTED, out, after_batch)

    def wait_parse(self, out: Outcome, after_batch) -> tuple[int, Any] | None:
        message = self.wait_for(_PARSE, out, after_batch)
        if message[0] == _END:
            return None
        return message[1], message[2]

    def drain(self, out: Outcome, after_batch) -> None:
        """Hear the partner out: its last reports, until it has finished."""
        while True:
            message = self.receive()
            if message is None:
                return
            if message[0] == _FAILED:
                raise PartnerFailed(f"the Miner's helper process for {self.label} failed:\n{message[1]}")
            if message[0] == _COMMITTED:
                out.reports.append(message[1])
                if after_batch is not None:
                    after_batch(message[1])

    def close(self) -> None:
        self.pipe.close()
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)


def _partner_main(job: Job, pipe, parents_end, parent: int) -> None:
    """The partner: wait for a parse turn, make and commit that batch, hand the turns back."""
    # The parent's signal handlers (the Miner service's "stop after this batch") do not
    # apply here: the parent ends this process, and dies with its end of the pipe.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parents_end.close()
    code = 0
    try:
        while True:
            message = _receive(pipe, parent)
            if message is None or message[0] == _END:
                break
            if message[0] != _PARSE:
                continue  # a report of a batch this process already waited for
            offset, state = message[1], message[2]
            read = job.read(offset, state)
            if read is None:
                pipe.send((_END,))
                break
            parsed, end, after_state = read
            pipe.send((_PARSE, end, after_state))
            batch = job.make(parsed)
            while True:  # the batch before this one must be committed first
                message = _receive(pipe, parent)
                if message is None or message[0] == _END:
                    return
                if message[0] == _COMMITTED:
                    break
            report = job.commit(batch, offset, end, after_state)
            pipe.send((_COMMITTED, report))
    except Stop:
        with contextlib.suppress(BrokenPipeError, OSError):
            pipe.send((_END,))
    except BaseException:
        code = 1
        with contextlib.suppress(BrokenPipeError, OSError):
            pipe.send((_FAILED, traceback.format_exc()))
    finally:
        connections.close_all()
        pipe.close()
        os._exit(code)  # no atexit handlers of the parent's (they are the parent's to run)


def _receive(pipe, parent: int):
    """The next message from the parent; None when the parent has gone."""
    while True:
        try:
            if pipe.poll(POLL_SECONDS):
                return pipe.recv()
        except (EOFError, OSError):
            return None
        if os.getppid() != parent:
            return None
