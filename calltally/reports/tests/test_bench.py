"""`calltally bench ingest`'s writing alone: the floor it prints is measured on the run's own calls,
written again exactly as they were."""

from __future__ import annotations

from collections import Counter

import pytest

from calltally.calls.models import Call
from calltally.calls.tests.test_rollups import IPO_SMDR, assert_rollups_match_calls, ipo, stored_rollups  # noqa: F401
from calltally.reports.management.commands.bench import floor_text, storing_alone

pytestmark = pytest.mark.django_db


def stored_calls() -> Counter:
    """Every row of the calls table (legs included), all its columns but the id."""
    return Counter(Call.rows.values_list(*(f.attname for f in Call._meta.concrete_fields if f.attname != "id")))


def test_writing_the_calls_again_leaves_every_call_and_rollup_as_it_was(ipo, cli):  # noqa: F811
    cli("import", "--site", "WAW", str(IPO_SMDR))
    calls, sums = stored_calls(), stored_rollups()
    assert Call.rows.filter(kind="leg").exists()  # legs and merged calls are written again too

    figures = storing_alone(ipo, batch=7)  # several batches, the last one short

    assert figures["stored_calls"] == sum(calls.values())
    assert stored_calls() == calls
    assert stored_rollups() == sums
    assert_rollups_match_calls()


def test_the_floor_compares_the_work_no_run_skips_with_what_ten_times_csv_allows():
    figures = {"spool_seconds": 0.5, "parse_seconds": 1.5, "store_calls_seconds": 2.0,
               "store_rollups_seconds": 2.5, "sums_seconds": 1.0, "stored_calls": 1000, "processes": 2,
               "csv_seconds": 0.4}
    text = "\n".join(floor_text(figures))
    # 10 × 0.4 s of wall time: the spool's 0.5 s, then 3.5 s on each of two processes.
    assert "10x csv leaves 7.50 s of CPU" in text
    assert "writing the calls take 4.00 s (53% of it), with the rollups 6.50 s (87% of it)" in text
