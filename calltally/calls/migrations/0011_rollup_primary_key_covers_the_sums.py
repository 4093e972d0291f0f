"""PostgreSQL: the rollups' primary key holds their sums itself (``INCLUDE``), and the covering
index beside it, which repeated the whole key, is dropped. Summaries still read only an index;
each upsert now writes one index instead of two: the upsert statements of 200,000 calls took a
fifth to a quarter less (4.3–5.0 s → 3.4–3.6 s, benchmarks/reports_results.md). SQLite's table is
already its key's one B-tree (WITHOUT ROWID, migration 0010): nothing to do there."""

from django.db import migrations

KEY = ['grain', 'day', 'site_id', 'hour', 'direction', 'answered', 'extension_id', 'person_id', 'cost_center_id',
       'category', 'destination', 'account', 'tariff', 'trunk', 'currency']
MEASURES = ['calls', 'answered_calls', 'talk_seconds', 'billed_seconds', 'ring_seconds', 'cost']
COVERING = "rollup_covering"


def primary_key_name(schema_editor, table: str) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [table])
        return cursor.fetchone()[0]


def rekey(schema_editor, table: str, included: bool) -> None:
    quote = schema_editor.quote_name
    key = ", ".join(map(quote, KEY))
    sums = ", ".join(map(quote, MEASURES))
    name = primary_key_name(schema_editor, table)
    schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                          f"ADD CONSTRAINT {quote(name)} PRIMARY KEY ({key})" + (f" INCLUDE ({sums})" if included else ""))
    if included:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(COVERING)}")
    else:
        schema_editor.execute(f"CREATE INDEX {quote(COVERING)} ON {quote(table)} ({key}) INCLUDE ({sums})")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rekey(schema_editor, apps.get_model("calls", "CallRollup")._meta.db_table, included=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rekey(schema_editor, apps.get_model("calls", "CallRollup")._meta.db_table, included=False)


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0010_rollup_key_as_primary_key'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
