# The site monitoring model moved to the alerts app (below the services, so the alert rules can
# read it); its table stays where it is, under its old name.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('services', '0002_control_and_monitoring'),
        ('alerts', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='SiteMonitoring')],
        ),
    ]
