"""The rollups' key becomes their primary key, and on SQLite the table is kept in key order
(WITHOUT ROWID): one B-tree per upsert instead of three. Django cannot turn an ``id`` primary
key into a composite one in place, so the table is made again; its rows are sums of the calls,
made again from them."""

from decimal import Decimal

from django.db import migrations, models

from calltally.calls.rollups import rebuild_in_migration
from calltally.db import covering_index, without_rowid

KEY = ['grain', 'day', 'site', 'hour', 'direction', 'answered', 'extension_id', 'person_id', 'cost_center_id',
       'category', 'destination', 'account', 'tariff', 'trunk', 'currency']
MEASURES = ['calls', 'answered_calls', 'talk_seconds', 'billed_seconds', 'ring_seconds', 'cost']


def keep_in_key_order(apps, schema_editor):
    """SQLite: the table as Django made it, WITHOUT ROWID. PostgreSQL: a covering index beside the
    primary key (key, then the sums), so that summaries read only the index."""
    table = apps.get_model("calls", "CallRollup")._meta.db_table
    if schema_editor.connection.vendor == "sqlite":
        without_rowid(schema_editor, table)
    elif schema_editor.connection.vendor == "postgresql":
        covering_index(schema_editor, table, "rollup_covering", [f"{k}_id" if k == "site" else k for k in KEY],
                       MEASURES)


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0009_rollup_trunk'),
        ('sites', '0005_connection_to_collectors'),
    ]

    operations = [
        migrations.DeleteModel(name='CallRollup'),
        migrations.CreateModel(
            name='CallRollup',
            fields=[
                ('pk', models.CompositePrimaryKey(*KEY, blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ('grain', models.PositiveSmallIntegerField(choices=[(1, 'site, local day and hour, direction, answered'), (2, 'site, local day, every dimension'), (3, 'site, local day, direction, answered, extension, person, cost center'), (4, 'site, local day, direction, answered, category, destination, account, tariff, trunk'), (5, 'site, local month, every dimension but answered'), (6, 'site, local month, direction, extension, person, cost center'), (7, 'site, local month, direction, category, destination, account, tariff, trunk')])),
                ('site', models.ForeignKey(db_constraint=False, db_index=False, on_delete=models.deletion.CASCADE, related_name='+', to='sites.site')),
                ('day', models.DateField(help_text="The local day in the site's zone; the first of the month for month grains.")),
                ('hour', models.PositiveSmallIntegerField(default=0, help_text='Local hour, 0-23 (hour grain only).')),
                ('direction', models.CharField(blank=True, choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('internal', 'Internal')], max_length=8)),
                ('answered', models.BooleanField(default=False)),
                ('extension_id', models.IntegerField(default=0, help_text="The extension's id; 0: none or not kept.")),
                ('person_id', models.IntegerField(default=0, help_text="The person's id; 0: none or not kept.")),
                ('cost_center_id', models.IntegerField(default=0, help_text="The cost center's id; 0: none or not kept.")),
                ('category', models.CharField(blank=True, max_length=16)),
                ('destination', models.CharField(blank=True, max_length=100)),
                ('account', models.CharField(blank=True, max_length=200)),
                ('tariff', models.CharField(blank=True, max_length=120)),
                ('trunk', models.CharField(blank=True, help_text="The call's trunk/device: the destination device of an outbound call, the originating device of an inbound one, blank for internal calls (as rating and the trunk report read it).", max_length=128)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('calls', models.BigIntegerField(default=0)),
                ('answered_calls', models.BigIntegerField(default=0)),
                ('talk_seconds', models.BigIntegerField(default=0)),
                ('billed_seconds', models.BigIntegerField(default=0)),
                ('ring_seconds', models.BigIntegerField(default=0)),
                ('cost', models.DecimalField(decimal_places=4, default=Decimal('0'), max_digits=18)),
            ],
        ),
        migrations.RunPython(keep_in_key_order, migrations.RunPython.noop),
        migrations.RunPython(rebuild_in_migration, migrations.RunPython.noop),
    ]
