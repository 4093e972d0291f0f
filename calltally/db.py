"""Writing many rows at once, the same way on SQLite and PostgreSQL.

The Miner and the tariff loader write tens of thousands of rows per
transaction; the ORM's ``bulk_create`` builds a model object per row, which
costs more than the writing. These helpers take plain tuples in a column
order the caller names, so the columns themselves are always derived from the
model (see :func:`columns_of`) and never restated by hand.
"""

from __future__ import annotations

import datetime as dt
import fcntl
from collections.abc import Iterable, Iterator

from django.db import connection, models

# Values per statement in an ``IN`` list on SQLite (well under its parameter limit).
IN_CHUNK = 500


def columns_of(model: type[models.Model], exclude: Iterable[str] = ("id",)) -> tuple[str, ...]:
    """The model's database columns in declaration order (``site_id`` for a foreign key)."""
    skip = set(exclude)
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname not in skip)


def widths_of(model: type[models.Model]) -> dict[str, int]:
    """The ``max_length`` of every text column, by column name."""
    return {f.attname: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}


def defaults_of(model: type[models.Model], columns: Iterable[str]) -> dict[str, object]:
    """The Python default of each named column (a callable default is called)."""
    found = {}
    for name in columns:
        field = next(f for f in model._meta.concrete_fields if f.attname == name)
        if not field.has_default():
            raise ValueError(f"{model.__name__}.{name} has no default: whoever writes rows must give it")
        found[name] = field.get_default()
    return found


def quoted(names: Iterable[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(name) for name in names)


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def without_rowid(schema_editor, table_name: str) -> None:
    """Make an empty SQLite table again as WITHOUT ROWID: its rows kept in primary key order in
    one B-tree (the key's own index is the table). Django has no option for it; a later
    migration that alters the table makes it again without it (a test watches for that)."""
    quoted_name = schema_editor.quote_name(table_name)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table_name])
        (sql,) = cursor.fetchone()
        if sql.rstrip().upper().endswith("WITHOUT ROWID"):
            return
        cursor.execute(f"SELECT 1 FROM {quoted_name} LIMIT 1")
        if cursor.fetchone():
            raise ValueError(f"{table_name} holds rows: only an empty table is made again WITHOUT ROWID")
        cursor.execute(f"DROP TABLE {quoted_name}")
        cursor.execute(f"{sql} WITHOUT ROWID")


def covering_index(schema_editor, table_name: str, name: str, columns: list[str], included: list[str]) -> None:
    """A PostgreSQL index on ``columns`` that also holds ``included``: a query reading only
    those is answered from the index alone."""
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX {quote(name)} ON {quote(table_name)} ({', '.join(map(quote, columns))}) "
        f"INCLUDE ({', '.join(map(quote, included))})")


def insert_sql(model: type[models.Model], columns: tuple[str, ...]) -> str:
    """One parameterised INSERT of a row of ``columns``."""
    return f"INSERT INTO {table(model)} ({quoted(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"


def insert_rows(cursor, model: type[models.Model], columns: tuple[str, ...], rows: list[tuple],
                sql: str | None = None) -> None:
    """Many rows in one go: COPY on PostgreSQL (an INSERT per row costs a round trip there:
    5,000 rows a second), one prepared INSERT run over every row on SQLite."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table(model)} ({quoted(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(sql or insert_sql(model, columns), rows)


def in_lists(column: str, values: list) -> Iterator[tuple[str, list]]:
    """(condition, its parameters) pairs that together cover ``values``: one array
    parameter on PostgreSQL, ``IN`` lists of :data:`IN_CHUNK` placeholders on SQLite
    (whose statements take a bounded number of parameters)."""
    if connection.vendor == "postgresql":
        if values:
            yield f"{column} = ANY(%s)", [list(values)]
        return
    for start in range(0, len(values), IN_CHUNK):
        part = values[start:start + IN_CHUNK]
        yield f"{column} IN ({', '.join(['%s'] * len(part))})", part


def sqlite_instant(value: dt.datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime: naive UTC text."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ")[:-6]  # without "+00:00": half the cost of replace(tzinfo=None)


def instant_adapter():
    """How a UTC instant is handed to the database without the ORM: text on SQLite
    (as Django writes it), the datetime itself on PostgreSQL."""
    return sqlite_instant if connection.vendor == "sqlite" else _identity


def _identity(value):
    return value


def ensure_migrated() -> None:
    """Create or upgrade the database; a file lock keeps two first starts apart."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return
    with open(settings.DATA_DIR / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)


class EpochSeconds(models.Func):
    """An instant as whole seconds since 1970-01-01 UTC (an integer), on SQLite and PostgreSQL: for
    loops over many calls, where a datetime made per row costs more than the work done with it."""

    arity = 1
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() exists in every SQLite (unixepoch() only from 3.38); rounded, exact to the second.
        return self.as_sql(compiler, connection,
                           template="CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="ROUND(EXTRACT(EPOCH FROM %(expressions)s))::bigint",
                           **extra)


class StageLost(RuntimeError):
    """A stage's rows were not all there when copied (see :meth:`Stage.copy_into`)."""


class Stage:
    """Rows written ahead into a TEMP table of this SQLite connection, then copied into their
    table by one ``INSERT … SELECT`` in the writers' turn.

    The Miner's two processes make batches at once but write them one at a time (SQLite has one
    writer). Binding a row's values to a statement is Python's work per value: for a call's 39
    columns it was about half of inserting it. A TEMP table belongs to its connection alone, so
    filling it takes no lock on the database and runs while the other process writes; the turn
    then copies the rows in C. The TEMP table's columns have no type, so a value reaches the real
    table unchanged, as if bound to it, and is converted by its column there.

    One batch at a time per connection: :meth:`put` empties the table first and returns a token;
    :meth:`holds` says whether the table still holds that token's rows on this connection (not
    after another ``put``, nor on a connection opened since)."""

    names: set[str] = set()

    def __init__(self, name: str, columns: tuple[str, ...], order: tuple[str, ...] = ()):
        """``order``: the columns the rows are copied in the order of (else the order they were
        put in), so that the turn's upsert sorts them in C instead of the caller in Python."""
        # Two stages on one TEMP table would each think it holds its rows.
        if name in Stage.names:
            raise ValueError(f"a stage named {name} exists already")
        Stage.names.add(name)
        self.name = name
        self.columns = columns
        self.order = order
        self.owner: tuple[object, int] | None = None
        self.puts = 0

    def put(self, rows: list[tuple]) -> int | None:
        """Write ``rows`` (of :attr:`columns`) into the stage; the token, or None off SQLite."""
        if connection.vendor != "sqlite":
            return None
        connection.ensure_connection()
        self.owner, self.puts = None, self.puts + 1
        columns = quoted(self.columns)
        own = not connection.in_atomic_block  # else the rows go with the caller's transaction
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({columns})")
            # DEFERRED: a transaction that writes only TEMP tables takes no lock on the database
            # (Django's atomic() would BEGIN IMMEDIATE and wait for the other process's turn).
            if own:
                cursor.execute("BEGIN DEFERRED")
            try:
                cursor.execute(f"DELETE FROM temp.{self.name}")
                cursor.executemany(f"INSERT INTO temp.{self.name} ({columns}) VALUES "
                                   f"({', '.join(['%s'] * len(self.columns))})", rows)
            except BaseException:
                if own:
                    cursor.execute("ROLLBACK")
                raise
            if own:
                cursor.execute("COMMIT")
        self.owner = (connection.connection, self.puts)
        return self.puts

    def holds(self, token: int | None) -> bool:
        return token is not None and self.owner == (connection.connection, token)

    def copy_into(self, cursor, target: str, expected: int, conflict: str = "") -> None:
        """Copy the staged rows into the ``target`` table (one statement; ``conflict``: an upsert's
        ON CONFLICT clause). Raises StageLost, rolling back the caller's transaction, when the
        statement did not write ``expected`` rows: the stage was emptied under the token (its
        rows put in a transaction that was rolled back since)."""
        cursor.execute(f"INSERT INTO {target} ({quoted(self.columns)}) {self.select()} {conflict}")
        if cursor.rowcount != expected:
            raise StageLost(f"{self.name} held {cursor.rowcount} rows instead of {expected}")

    def select(self) -> str:
        """The SELECT of the staged rows in the stage's order (``WHERE true``: an upsert's ON
        CONFLICT may follow it)."""
        order = quoted(self.order) if self.order else "rowid"
        return f"SELECT {quoted(self.columns)} FROM temp.{self.name} WHERE true ORDER BY {order}"
