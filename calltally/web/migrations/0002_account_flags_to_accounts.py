# The account flags now belong to the accounts app (its 0001 takes over the table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("web", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccountFlags")],
            database_operations=[],
        ),
    ]
