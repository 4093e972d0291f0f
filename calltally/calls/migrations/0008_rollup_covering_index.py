from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0007_call_start_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='callrollup',
            index=models.Index(fields=['grain', 'day', 'site', 'hour', 'direction', 'answered', 'extension_id', 'person_id', 'cost_center_id', 'category', 'destination', 'account', 'tariff', 'currency', 'calls', 'answered_calls', 'talk_seconds', 'billed_seconds', 'ring_seconds', 'cost'], name='rollup_covering'),
        ),
    ]
