# Secrets stored in clear by earlier versions (an SFTP password, a tcp-connect login script) are
# encrypted with the storage key, so that an upgraded installation keeps none in clear. Which options
# are secrets is what each collector declares (calltally/collectors/schema.py), as for every new value.
#
# Not atomic, so that once the rows are committed the database can be rid of the old clear text
# too: SQLite overwrites freed space with zeros (secure_delete) and the WAL is checkpointed and
# truncated; PostgreSQL rewrites the table (VACUUM FULL), leaving no dead row version behind.

from django.db import migrations, transaction


def seal(apps, schema_editor):
    from calltally.collectors import schema

    Connection = apps.get_model("collectors", "Connection")
    connection = schema_editor.connection
    sqlite = connection.vendor == "sqlite"
    changed = 0
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("PRAGMA secure_delete")
            secure_delete = cursor.fetchone()[0]
            cursor.execute("PRAGMA secure_delete = ON")
        try:
            with transaction.atomic(using=connection.alias):
                for row in Connection.objects.using(connection.alias).order_by("pk"):
                    parameters = schema.sealed(row.kind, row.parameters or {})
                    if parameters != (row.parameters or {}):
                        Connection.objects.using(connection.alias).filter(pk=row.pk).update(parameters=parameters)
                        changed += 1
            if changed and sqlite:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            elif changed and connection.vendor == "postgresql":
                cursor.execute("VACUUM FULL sites_connection")
        finally:
            if sqlite:
                cursor.execute(f"PRAGMA secure_delete = {int(secure_delete)}")


def unseal(apps, schema_editor):
    # Back to an earlier version, which reads its secrets in clear. A key that cannot decrypt them
    # leaves them as they are: they must be entered again.
    from calltally.collectors import schema

    Connection = apps.get_model("collectors", "Connection")
    alias = schema_editor.connection.alias
    with transaction.atomic(using=alias):
        for row in Connection.objects.using(alias).order_by("pk"):
            try:
                parameters = schema.opened(row.kind, row.parameters or {}, row.pk)
            except schema.SecretKeyError:
                continue
            if parameters != (row.parameters or {}):
                Connection.objects.using(alias).filter(pk=row.pk).update(parameters=parameters)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("collectors", "0002_connection_from_sites"),
    ]

    operations = [
        migrations.RunPython(seal, unseal, elidable=False),
    ]
