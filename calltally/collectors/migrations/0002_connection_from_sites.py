# Connections move from the sites app to this one, beside their collectors: the table
# (sites_connection) stays where it is, only Django's record of who owns it changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("collectors", "0001_initial"),
        ("sites", "0004_reading_problem"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Connection",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("kind", models.CharField(choices=[
                            ("ftp", "FTP server (the PBX pushes files)"), ("sftp-pull", "SFTP pull"),
                            ("tcp-listen", "TCP listener (the PBX connects)"),
                            ("tcp-connect", "TCP client (CallTally connects)"), ("serial", "Serial port"),
                            ("folder", "Watched folder"), ("http-push", "HTTP push")], max_length=16)),
                        ("parameters", models.JSONField(blank=True, default=dict)),
                        ("enabled", models.BooleanField(default=True)),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        ("updated", models.DateTimeField(auto_now=True)),
                        ("site", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="connections", to="sites.site")),
                    ],
                    options={"ordering": ["site__code", "id"], "db_table": "sites_connection"},
                ),
                migrations.AlterField(
                    model_name="connectionstate",
                    name="connection",
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="state",
                                               to="collectors.connection"),
                ),
            ],
            database_operations=[],
        ),
    ]
