"""`calltally ldap sync|test`: people from LDAP / Active Directory (settings: CALLTALLY_LDAP_*)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.directory.ldap import LdapClient, LdapConfig, LdapConfigError, LdapError, sync_directory

SAMPLE = 5


class Command(BaseCommand):
    help = "Sync people from LDAP / Active Directory, or test the connection (see docs/directory.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="sync|test")
        sync = sub.add_parser("sync", help="create, update and deactivate people from the directory")
        sync.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
        sync.add_argument("--json", action="store_true")
        test = sub.add_parser("test", help="connect, bind and search; show the first people as they would be synced")
        test.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            config = LdapConfig.from_env()
            if options["action"] == "test":
                return self.test(config, options)
            report = sync_directory(config, dry_run=options["dry_run"])
        except (LdapConfigError, LdapError) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            print_json(report.as_dict(), self.stdout)
        else:
            for line in report.lines():
                self.stdout.write(line)

    def test(self, config: LdapConfig, options):
        with LdapClient(config) as client:
            identity = client.whoami()
            encrypted = client.encrypted
            entries = list(client.search())
        mapping = config.mapping
        sample = []
        for entry in entries[:SAMPLE]:
            row = {"dn": entry.dn}
            for name, attributes in mapping.items():
                value = entry.first(attributes)
                row[name] = config.extension_from(value) if name == "extension" else value
            sample.append(row)
        if options["json"]:
            print_json({"settings": dict(config.describe()), "bound_as": identity, "encrypted": encrypted,
                        "entries": len(entries), "sample": sample}, self.stdout)
            return
        for name, value in config.describe():
            self.stdout.write(f"{name:<12} {value}")
        self.stdout.write(f"connected    {'encrypted (TLS)' if encrypted else 'NOT encrypted'}, bound as {identity}")
        self.stdout.write(f"search found {len(entries)} entries; the first as they would be synced:")
        for row in sample:
            fields = ", ".join(f"{k}={v!r}" for k, v in row.items() if k != "dn")
            self.stdout.write(f"  {row['dn']}: {fields}")
