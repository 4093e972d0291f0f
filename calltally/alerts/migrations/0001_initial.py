
import calltally.alerts.models
import datetime
import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('directory', '0002_people_extensions_accounts'),
        ('sites', '0005_connection_to_collectors'),
        ('services', '0002_control_and_monitoring'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AlertRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('claimed_by', models.CharField(blank=True, editable=False, help_text='The worker (host:pid) working on this row; empty: nobody.', max_length=300)),
                ('lease_until', models.DateTimeField(blank=True, editable=False, help_text='The claim lapses at this instant unless renewed (UTC).', null=True)),
                ('name', models.CharField(max_length=100, unique=True)),
                ('kind', models.CharField(choices=[('silent-site', 'Site silent within business hours'), ('call-cost', 'Call cost above an amount'), ('call-duration', 'Call duration above a length'), ('destination', 'Calls to premium or blocked destinations'), ('out-of-hours', 'International calls outside business hours'), ('repeated-number', 'Many calls to one number in a short time'), ('cost-spike', "A person's daily cost far above their usual")], max_length=20)),
                ('enabled', models.BooleanField(default=True)),
                ('scope', models.CharField(choices=[('all', 'Every site'), ('site', 'One site'), ('cost-center', 'A cost center and those below it'), ('person', 'One person')], default='all', max_length=12)),
                ('hours', models.PositiveSmallIntegerField(blank=True, help_text="Silent site: business hours without a record; empty: each site's own threshold.", null=True, validators=[django.core.validators.MinValueValidator(1)])),
                ('cost', models.DecimalField(blank=True, decimal_places=4, help_text='Call cost: an alert above this amount.', max_digits=12, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))])),
                ('currency', models.CharField(blank=True, help_text="The amounts' currency (ISO 4217); empty: the calls' own, any.", max_length=3)),
                ('duration', models.PositiveIntegerField(blank=True, help_text='Call duration: seconds of talk.', null=True)),
                ('prefixes', models.CharField(blank=True, help_text='Destination: number prefixes as dialled or in E.164, e.g. 0900, +88', max_length=500)),
                ('countries', models.CharField(blank=True, help_text='Destination: ISO country codes of the called number, e.g. CU, SO', max_length=300)),
                ('categories', models.CharField(blank=True, help_text='Destination: call categories, e.g. premium, special', max_length=200)),
                ('business_hours', models.CharField(blank=True, help_text="e.g. Mon-Fri 08:00-18:00, in each site's zone. Silent site: empty reads each site's own.", max_length=100)),
                ('holidays', models.CharField(blank=True, help_text='Days outside business hours: YYYY-MM-DD, or MM-DD every year.', max_length=1000)),
                ('count', models.PositiveIntegerField(blank=True, help_text='Repeated number: this many calls …', null=True, validators=[django.core.validators.MinValueValidator(2)])),
                ('minutes', models.PositiveIntegerField(blank=True, help_text='… within this many minutes.', null=True, validators=[django.core.validators.MinValueValidator(1)])),
                ('factor', models.DecimalField(blank=True, decimal_places=2, help_text="Cost spike: today's cost above the usual daily cost times this.", max_digits=6, null=True, validators=[django.core.validators.MinValueValidator(Decimal('1'))])),
                ('baseline_days', models.PositiveSmallIntegerField(blank=True, help_text='Cost spike: the usual is the mean of these last days.', null=True, validators=[django.core.validators.MinValueValidator(1)])),
                ('floor', models.DecimalField(blank=True, decimal_places=4, help_text='Cost spike: never below this amount (a person who rarely calls).', max_digits=12, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))])),
                ('emails', models.CharField(blank=True, help_text='E-mail addresses, separated by commas.', max_length=1000)),
                ('webhook', models.URLField(blank=True, help_text='A URL that receives each alert as a JSON POST.', max_length=500)),
                ('digest', models.BooleanField(default=False, help_text='One mail a day listing the alerts, not one per alert.')),
                ('last_call_id', models.BigIntegerField(default=0, editable=False, help_text='The last call looked at: later ids arrived since.')),
                ('last_checked', models.DateTimeField(blank=True, editable=False, null=True)),
                ('last_error', models.TextField(blank=True, editable=False)),
                ('digest_sent_on', models.DateField(blank=True, editable=False, null=True)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('cost_center', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='directory.costcenter')),
                ('person', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='directory.person')),
                ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='sites.site')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        # The site monitoring table was made by the services app (0002) and keeps its name: only the
        # model moves here, so the state changes and the database does not.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SiteMonitoring',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('silent_after_hours', models.PositiveSmallIntegerField(default=4)),
                        ('business_days', models.JSONField(default=calltally.alerts.models.default_business_days)),
                        ('business_start', models.TimeField(default=datetime.time(8, 0))),
                        ('business_end', models.TimeField(default=datetime.time(18, 0))),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('site', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='monitoring', to='sites.site')),
                    ],
                    options={
                        'db_table': 'services_sitemonitoring',
                    },
                ),
            ],
        ),
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200)),
                ('state', models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('reset', 'Reset')], default='open', max_length=12)),
                ('first_seen', models.DateTimeField()),
                ('last_seen', models.DateTimeField()),
                ('count', models.PositiveIntegerField(default=0, help_text='Matching calls (silent site: checks that found it).')),
                ('sample_call_ids', models.JSONField(blank=True, default=list)),
                ('details', models.JSONField(blank=True, default=dict)),
                ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                ('reset_at', models.DateTimeField(blank=True, null=True)),
                ('notified_at', models.DateTimeField(blank=True, null=True)),
                ('delivered', models.JSONField(blank=True, default=dict, help_text='Target (email, webhook) → when it was told.')),
                ('notify_error', models.TextField(blank=True)),
                ('notify_attempts', models.PositiveSmallIntegerField(default=0)),
                ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('reset_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sites.site')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='alerts.alertrule')),
            ],
            options={
                'ordering': ['-last_seen'],
                'indexes': [models.Index(fields=['state', 'rule'], name='alert_state_rule')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('state__in', ('open', 'acknowledged'))), fields=('rule', 'key'), name='alert_one_armed_per_key')],
            },
        ),
    ]
