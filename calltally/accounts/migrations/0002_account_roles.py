# AccountFlags becomes Account: the same rows, now with the account's role and what it is
# about. Existing superusers and staff become administrators (staff saw every call before);
# every user gets an account row.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def accounts_for_everyone(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Account = apps.get_model("accounts", "Account")
    for user in User.objects.all():
        account, _ = Account.objects.get_or_create(user=user)
        if user.is_superuser or user.is_staff:
            account.role = "administrator"
            account.save(update_fields=["role"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("directory", "0002_people_extensions_accounts"),
        ("sites", "0005_connection_to_collectors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("web", "0002_account_flags_to_accounts"),
    ]

    operations = [
        migrations.RenameModel(old_name="AccountFlags", new_name="Account"),
        migrations.AlterModelTable(name="account", table=None),
        migrations.AlterModelOptions(name="account", options={"ordering": ["user__username"]}),
        migrations.AlterField(
            model_name="account",
            name="user",
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="account",
                                       to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="account",
            name="must_change_password",
            field=models.BooleanField(default=False,
                                      help_text="The account must choose a new password before anything else."),
        ),
        migrations.AddField(
            model_name="account",
            name="role",
            field=models.CharField(choices=[("administrator", "Administrator"), ("site-admin", "Site administrator"),
                                            ("manager", "Manager"), ("user", "User")], default="user",
                                   max_length=16),
        ),
        migrations.AddField(
            model_name="account",
            name="person",
            field=models.ForeignKey(blank=True, help_text="The directory person this account is: a user sees "
                                    "this person's calls.", null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="accounts",
                                    to="directory.person"),
        ),
        migrations.AddField(
            model_name="account",
            name="sites",
            field=models.ManyToManyField(blank=True, help_text="The sites a site administrator runs.",
                                         related_name="administrators", to="sites.site"),
        ),
        migrations.AddField(
            model_name="account",
            name="cost_center",
            field=models.ForeignKey(blank=True, help_text="A manager sees this cost center and everything below "
                                    "it (without one: the cost centers the person manages).", null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="manager_accounts", to="directory.costcenter"),
        ),
        migrations.AddField(
            model_name="account",
            name="ldap",
            field=models.BooleanField(default=False, help_text="Signs in with the directory's (LDAP) password."),
        ),
        migrations.RunPython(accounts_for_everyone, migrations.RunPython.noop),
    ]
