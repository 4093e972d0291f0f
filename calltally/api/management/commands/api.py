"""`calltally api token create|list|revoke`: an account's API tokens from the command line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from calltally.api import tokens
from calltally.api.models import ApiToken
from calltally.audit import services as audit
from calltally.audit.choices import Action


class Command(BaseCommand):
    help = "API tokens: create one for an account (its key printed once), list them, revoke one."

    def add_arguments(self, parser):
        token = parser.add_subparsers(dest="what", required=True).add_parser("token", help="API tokens")
        actions = token.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token; its key is printed this once")
        create.add_argument("username")
        create.add_argument("--name", default="command line", help="what the token is for")
        listing = actions.add_parser("list", help="an account's tokens (never their keys)")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="revoke a token, by the prefix the list shows (or its id)")
        revoke.add_argument("username")
        revoke.add_argument("token", help="the token's prefix (ct_…) or id")

    def handle(self, *args, what, action, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"there is no account named {username!r}")
        if action == "create":
            form = tokens.TokenForm({"name": options["name"]})
            if not form.is_valid():
                raise CommandError("; ".join(" ".join(m) for m in form.errors.values()))
            token, key = tokens.create(user, form.cleaned_data["name"])
            audit.record(None, Action.CREATE, obj=token, after=tokens.snapshot(token), via="command line")
            self.stdout.write(key)
            self.stderr.write(f"Token {token.name!r} for {username}: copy it now, it is never shown again.")
        elif action == "list":
            for token in ApiToken.objects.filter(user=user).order_by("created", "id"):
                used = token.last_used.isoformat(timespec="seconds") if token.last_used else "never used"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{token.name}\t"
                                  f"{token.created.isoformat(timespec='seconds')}\t{used}")
        else:
            wanted = options["token"].rstrip("…")
            found = ApiToken.objects.filter(user=user)
            found = found.filter(pk=int(wanted)) if wanted.isdigit() else found.filter(prefix=wanted)
            token = found.first()
            if token is None or found.count() > 1:
                raise CommandError(f"{username} has no token {options['token']!r}" if token is None
                                   else f"several tokens of {username} start so: revoke by id")
            before = tokens.snapshot(token)
            token.delete()
            audit.record(None, Action.DELETE, obj=token, before=before, text=str(token), via="command line")
            self.stdout.write(f"Token {token.name!r} of {username} revoked.")
