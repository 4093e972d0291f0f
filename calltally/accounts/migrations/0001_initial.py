# The account flags move from the web app (which created their table) to this app:
# the table stays where it is, only Django's record of who owns it changes.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("web", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccountFlags",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("must_change_password", models.BooleanField(default=False)),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name="flags", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"verbose_name_plural": "account flags", "db_table": "web_accountflags"},
                ),
            ],
            database_operations=[],
        ),
    ]
