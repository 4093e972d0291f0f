"""Rows staged ahead of the writers' turn (calltally.db.Stage): put without a lock, copied whole."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import OperationalError, connection, transaction

from calltally import db

STAGE = db.Stage("calltally_test_stage", ("number", "label"))
TARGET = "calltally_test_stage_target"
ROWS = [(1, "one"), (2, "two"), (3, "three")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def target():
    if connection.vendor != "sqlite":
        pytest.skip("a stage is SQLite's: PostgreSQL copies rows in with COPY and has more than one writer")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TARGET} (number integer PRIMARY KEY, label text NOT NULL)")
    yield TARGET
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TARGET}")


def copied(token, expected: int | None = None) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        assert STAGE.holds(token)
        STAGE.copy_into(cursor, TARGET, len(ROWS) if expected is None else expected)
    return stored()


def stored() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number, label FROM {TARGET} ORDER BY number")
        return cursor.fetchall()


def test_staged_rows_reach_their_table_in_one_statement(target):
    assert copied(STAGE.put(ROWS)) == ROWS


def test_putting_rows_waits_for_no_writer(target):
    # Another connection holds the database's write lock, as the partner process does in its turn.
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 200")
    try:
        token = STAGE.put(ROWS)
        # A transaction on the database itself would have had to wait (and here gives up).
        with pytest.raises(OperationalError), transaction.atomic():
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 30000")
    assert copied(token) == ROWS


def test_a_stage_holds_only_the_rows_put_last(target):
    first = STAGE.put(ROWS[:1])
    last = STAGE.put(ROWS[1:])
    assert not STAGE.holds(first)
    assert STAGE.holds(last)
    assert not STAGE.holds(None)
    assert copied(last, 2) == ROWS[1:]


def test_rows_put_in_a_transaction_rolled_back_since_are_never_taken_for_none(target):
    STAGE.put(ROWS[:1])  # what the stage holds once the later put is undone
    with pytest.raises(db.StageLost), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            token = STAGE.put(ROWS)
            raise RuntimeError("the caller's transaction fails")
        # The token cannot know its rows went with the savepoint; the copy finds it out, and its
        # error rolls back the transaction with what it had copied.
        assert STAGE.holds(token)
        with connection.cursor() as cursor:
            STAGE.copy_into(cursor, TARGET, len(ROWS))
    assert stored() == []


def test_a_second_stage_on_the_same_table_is_refused():
    with pytest.raises(ValueError, match="exists already"):
        db.Stage("calltally_test_stage", ("number",))


def test_an_ordered_stage_copies_its_rows_in_key_order_whatever_order_they_were_put_in(target):
    # The rollups' stage is ordered by their key: the upsert then walks the table's index in order,
    # and the rows are sorted by SQLite, not in Python.
    ordered = db.Stage("calltally_test_ordered_stage", ("number", "label"), order=("label",))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE calltally_test_arrivals (arrival integer PRIMARY KEY, number integer, label text)")
    try:
        token = ordered.put([(2, "two"), (3, "three"), (1, "one")])
        with transaction.atomic(), connection.cursor() as cursor:
            assert ordered.holds(token)
            ordered.copy_into(cursor, "calltally_test_arrivals", 3)
            cursor.execute("SELECT label FROM calltally_test_arrivals ORDER BY arrival")
            assert [label for (label,) in cursor.fetchall()] == ["one", "three", "two"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE calltally_test_arrivals")
