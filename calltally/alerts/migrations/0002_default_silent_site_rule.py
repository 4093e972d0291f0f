# The silent-site alarm the Scheduler used to log is now an alert rule: one rule over every site that
# reads each site's own threshold and business hours (SiteMonitoring; 4 business hours by default),
# as the alarm did. It tells nobody until someone adds addresses; its alerts show on the alerts page.

from django.db import migrations


def add_rule(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    if not AlertRule.objects.filter(kind="silent-site").exists():
        AlertRule.objects.create(name="Site silent", kind="silent-site", scope="all")


def remove_rule(apps, schema_editor):
    apps.get_model("alerts", "AlertRule").objects.filter(name="Site silent", kind="silent-site").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(add_rule, remove_rule),
    ]
