from django.db import migrations, models
import django.db.models.deletion


def fill_stems(apps, schema_editor):
    # Rows spooled before versions existed can still be continued by name; the stem lets a
    # rotated name find them too once their first line is known (never, for these: left blank).
    SpooledFile = apps.get_model("spool", "SpooledFile")
    for row in SpooledFile.objects.only("pk", "name").iterator():
        SpooledFile.objects.filter(pk=row.pk).update(stem=row.name.split(".", 1)[0])


class Migration(migrations.Migration):

    dependencies = [
        ("spool", "0002_spooled_file_resume"),
    ]

    operations = [
        migrations.AddField(
            model_name="spooledfile",
            name="head_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="spooledfile",
            name="stem",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="spooledfile",
            name="from_byte",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="spooledfile",
            name="to_byte",
            field=models.BigIntegerField(help_text="Null on rows written before versions: the whole size.",
                                         null=True),
        ),
        migrations.AddField(
            model_name="spooledfile",
            name="origin",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="spool.spooledfile"),
        ),
        migrations.AddField(
            model_name="spooledfile",
            name="compared",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="spooledfile",
            index=models.Index(fields=["site", "head_sha256"], name="spooled_file_head"),
        ),
        migrations.AddIndex(
            model_name="spooledfile",
            index=models.Index(fields=["site", "name"], name="spooled_file_name"),
        ),
        migrations.RunPython(fill_stems, migrations.RunPython.noop),
    ]
