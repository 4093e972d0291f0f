from django.db import migrations, models


class Migration(migrations.Migration):
    """Earlier versions are looked up by stem or name; the first line's hash is shared by every
    file of a format with a header line, so an index on it found them all."""

    dependencies = [
        ("spool", "0003_spooled_file_versions"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="spooledfile", name="spooled_file_head"),
        migrations.AddIndex(
            model_name="spooledfile",
            index=models.Index(fields=["site", "stem"], name="spooled_file_stem"),
        ),
    ]
