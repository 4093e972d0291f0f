"""Processes: when a big job may fork a helper onto a second core, and whether a process lives."""

from __future__ import annotations

import multiprocessing
import os
import threading

from django.conf import settings
from django.db import connection


def pid_alive(pid: int | None) -> bool:
    """Whether a process of this host has that id (one owned by another user counts)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def helper_allowed() -> bool:
    """Whether this process may fork a helper now (``CALLTALLY_PROCESSES`` > 1)."""
    return (
        settings.PROCESSES > 1
        and "fork" in multiprocessing.get_all_start_methods()
        # Fork only a single-threaded process: a lock another thread held at the fork (in
        # SQLite, in logging) would stay locked in the helper for ever.
        and threading.active_count() == 1
        # Inside a transaction (a test's, a caller's) the helper could not see the data
        # and the connection cannot be closed for the fork.
        and not connection.in_atomic_block
    )
