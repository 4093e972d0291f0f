"""Making the next batches in a second process while this one writes.

Reading, parsing, classifying, numbering and pricing a batch is pure CPU work;
writing it is mostly the database's. With a large backlog (a big import, a
Miner catching up) the Miner forks a helper process that makes batches ahead —
rows ready to insert — while the Miner itself writes the batch before, so the
two overlap on two cores.

Only the Miner writes calls and moves checkpoints, in spool order, with the
same claim as always (``UPDATE … WHERE mined_offset = old``): the helper makes
rows and nothing else (except the extensions automatic acquisition creates,
exactly as the Miner would). If either dies the batch in flight is simply not
committed; the next run starts from the checkpoint. The helper is a fork, so
it starts with the Miner's warm caches (extensions, numbers already read,
tariffs) and costs no start-up time. Recalculation and reprocessing make the
records they replay the same way (:meth:`SiteMiner.remade_batches`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue as queues
import traceback
from collections.abc import Iterator

from django.db import connections

from calltally.forking import helper_allowed

log = logging.getLogger("calltally.miner")

# Below this much unread spool the Miner makes its batches itself: a fork costs
# more than it saves on a few records (the live Miner usually reads a handful).
MIN_BACKLOG_BYTES = 4 * 1024 * 1024
# Batches the helper may make ahead of the writer (bounds memory).
AHEAD = 2
_DONE = "done"
_FAILED = "failed"


def worth_it(backlog_bytes: int) -> bool:
    """Whether to make batches in a helper process for this much unread spool."""
    return backlog_bytes >= MIN_BACKLOG_BYTES and helper_allowed()


def batches_ahead(miner, produce: str, *args) -> Iterator[tuple]:
    """What ``miner.<produce>(*args)`` yields (:meth:`SiteMiner.made_batches`,
    :meth:`SiteMiner.remade_batches`), made by a forked helper process."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=AHEAD)
    # A fork must not share the database connection: the helper opens its own.
    connections.close_all()
    helper = context.Process(
        target=_make, args=(getattr(miner, produce), args, channel, os.getpid()),
        name=f"calltally-miner-{miner.site.code}", daemon=True,
    )
    helper.start()
    try:
        while True:
            try:
                item = channel.get(timeout=1)
            except queues.Empty:
                if not helper.is_alive():
                    raise RuntimeError(
                        f"the Miner's helper process for site {miner.site.code} ended unexpectedly "
                        f"(exit code {helper.exitcode}); nothing after the last checkpoint was written"
                    ) from None
                continue
            if item == _DONE:
                return
            if isinstance(item, tuple) and item and item[0] == _FAILED:
                raise RuntimeError(f"the Miner's helper process for site {miner.site.code} failed:\n{item[1]}")
            yield item
    finally:
        if helper.is_alive():
            helper.terminate()
        helper.join(10)
        channel.close()


def _make(produce, args, channel, writer: int) -> None:
    """The helper: make every batch and hand them over in order."""

    def hand_over(item) -> None:
        while True:
            try:
                channel.put(item, timeout=1)
                return
            except queues.Full:
                if os.getppid() != writer:  # the Miner was killed: nobody will read this
                    os._exit(1)

    try:
        for made in produce(*args):
            hand_over(made)
        hand_over(_DONE)
    except BaseException:  # the writer reports it; nothing was written here
        hand_over((_FAILED, traceback.format_exc()))
    finally:
        connections.close_all()
