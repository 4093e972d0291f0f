# Connections now belong to the collectors app (its 0002 takes over the table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("sites", "0004_reading_problem"),
        ("collectors", "0002_connection_from_sites"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Connection")],
            database_operations=[],
        ),
    ]
