"""`calltally account add|list|set|remove`: sign-in accounts and their roles.

The password is never taken from the command line (it would stay in the shell's
history and in the process list): it is read from standard input (asked for twice
on a terminal) or from ``--password-file``.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calltally.accounts.forms import AccountForm, check_password
from calltally.accounts.models import Role
from calltally.accounts.services import account_of
from calltally.cliutil import print_json, validation_message

ROLES = [value for value, _ in Role.choices]


class Command(BaseCommand):
    help = "Sign-in accounts: add, list, change and remove them, with their roles."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|set|remove")
        add = sub.add_parser("add", help="add an account (its password from standard input or --password-file)")
        add.add_argument("username")
        self.account_options(add, adding=True)
        listing = sub.add_parser("list", help="every account with its role")
        listing.add_argument("--json", action="store_true")
        change = sub.add_parser("set", help="change an account (options not given are kept)")
        change.add_argument("username")
        self.account_options(change, adding=False)
        remove = sub.add_parser("remove", help="remove an account")
        remove.add_argument("username")

    @staticmethod
    def account_options(parser, adding: bool) -> None:
        parser.add_argument("--role", choices=ROLES, required=adding)
        parser.add_argument("--person", metavar="USERNAME", help="the directory person this account is")
        parser.add_argument("--site", action="append", metavar="CODE",
                            help="a site a site administrator runs (repeat; with set: replaces the list)")
        parser.add_argument("--cost-center", metavar="CODE", help="the cost center a manager sees (and below)")
        parser.add_argument("--email")
        parser.add_argument("--ldap", action="store_true", default=None,
                            help="signs in with the directory's (LDAP) password: no CallTally password")
        parser.add_argument("--password-file", metavar="FILE", help="read the password from this file")
        if adding:
            parser.add_argument("--no-must-change", action="store_true",
                                help="do not ask for a new password at first sign-in")
        else:
            parser.add_argument("--no-ldap", dest="ldap", action="store_false")
            parser.add_argument("--password", action="store_true",
                                help="set a new password (from standard input or --password-file)")
            parser.add_argument("--must-change", dest="must_change", action="store_true", default=None)
            parser.add_argument("--no-must-change", dest="must_change", action="store_false")
            parser.add_argument("--active", dest="active", action="store_true", default=None)
            parser.add_argument("--inactive", dest="active", action="store_false")
            parser.add_argument("--no-person", action="store_true", help="unlink the directory person")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    # --- actions ---------------------------------------------------------------------
    def do_add(self, options):
        data = {"username": options["username"], "role": options["role"], "active": True}
        self.merge(data, options)
        form = AccountForm(data)
        self.refuse_invalid(form)
        password = None
        if not form.cleaned_data.get("ldap") or options["password_file"]:
            password = self.read_password(options, form.cleaned_data["username"])
        user = form.save(password=password, must_change_password=not options["no_must_change"])
        self.stdout.write(f"account {user.username} added: {self.describe(user)}")

    def do_set(self, options):
        user = self.user(options["username"])
        form = AccountForm(instance=user)
        data = dict(form.initial)
        if options["role"]:
            data["role"] = options["role"]
        if options["no_person"]:
            data["person"] = ""
        if options["active"] is not None:
            data["active"] = options["active"]
        self.merge(data, options)
        form = AccountForm(data, instance=user)
        self.refuse_invalid(form)
        password = self.read_password(options, user.username) if options["password"] else None
        user = form.save(password=password, must_change_password=options["must_change"])
        self.stdout.write(f"account {user.username} changed: {self.describe(user)}")

    def do_list(self, options):
        users = get_user_model().objects.select_related("account", "account__person", "account__cost_center")
        rows = []
        for user in users.order_by("username").prefetch_related("account__sites"):
            account = account_of(user)
            rows.append({
                "username": user.username, "role": account.role, "active": user.is_active,
                "person": account.person.username if account.person else None,
                "sites": sorted(site.code for site in account.sites.all()),
                "cost_center": account.cost_center.code if account.cost_center else None,
                "ldap": account.ldap, "must_change_password": account.must_change_password,
                "last_login": user.last_login.isoformat() if user.last_login else None,
            })
        if options["json"]:
            print_json(rows, self.stdout)
            return
        for row in rows:
            about = ", ".join(part for part in (
                f"person {row['person']}" if row["person"] else "",
                f"sites {' '.join(row['sites'])}" if row["sites"] else "",
                f"cost center {row['cost_center']}" if row["cost_center"] else "",
                "LDAP" if row["ldap"] else "", "inactive" if not row["active"] else "",
                "must change password" if row["must_change_password"] else "",
            ) if part)
            self.stdout.write(f"{row['username']:<20} {row['role']:<14} {about}")

    def do_remove(self, options):
        user = self.user(options["username"])
        if user.is_superuser and not get_user_model().objects.filter(is_superuser=True).exclude(pk=user.pk).exists():
            raise CommandError(f"{user.username} is the last superuser: make another one first")
        user.delete()
        self.stdout.write(f"account {options['username']} removed")

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def merge(data: dict, options: dict) -> None:
        for option, field in (("person", "person"), ("cost_center", "cost_center"), ("email", "email")):
            if options.get(option) is not None:
                data[field] = options[option]
        if options.get("site"):
            data["sites"] = options["site"]
        if options.get("ldap") is not None:
            data["ldap"] = options["ldap"]

    @staticmethod
    def refuse_invalid(form: AccountForm) -> None:
        if not form.is_valid():
            raise CommandError(validation_message(ValidationError(form.errors)))

    @staticmethod
    def user(username: str):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no account named {username!r} (calltally account list shows them)") from None

    def read_password(self, options: dict, username: str) -> str:
        if options["password_file"]:
            try:
                password = Path(options["password_file"]).read_text().rstrip("\r\n")
            except OSError as exc:
                raise CommandError(f"cannot read {options['password_file']}: {exc.strerror}") from None
        elif sys.stdin.isatty():
            password = getpass.getpass(f"Password for {username}: ")
            if getpass.getpass("The same again: ") != password:
                raise CommandError("the two passwords differ; nothing was changed")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("no password given (standard input or --password-file); nothing was changed")
        probe = get_user_model()(username=username)
        try:
            check_password(password, probe)
        except ValidationError as exc:
            raise CommandError("the password is refused: " + " ".join(exc.messages)) from None
        return password

    @staticmethod
    def describe(user) -> str:
        account = account_of(user)
        parts = [account.get_role_display()]
        if account.person:
            parts.append(f"person {account.person.username}")
        sites = sorted(site.code for site in account.sites.all())
        if sites:
            parts.append("sites " + " ".join(sites))
        if account.cost_center:
            parts.append(f"cost center {account.cost_center.code}")
        if account.must_change_password:
            parts.append("must change the password at first sign-in")
        return ", ".join(parts)
