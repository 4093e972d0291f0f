"""`calltally accounts import|export|list|unallocated`: account (client-matter, PIN) codes."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Q

from calltally.calls.services import unallocated_accounts
from calltally.cliutil import print_json
from calltally.directory.commandkit import finish, write_export
from calltally.directory.importers import export_accounts, import_accounts
from calltally.directory.models import AccountCode
from calltally.directory.tabular import FORMATS, FileRefused
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "Import, export and list account codes; report the calls whose code matches none."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="import|export|list|unallocated")
        load = sub.add_parser("import", help="create and update account codes from a CSV, TSV or XLSX file")
        load.add_argument("file", metavar="FILE")
        load.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
        load.add_argument("--skip-invalid", action="store_true",
                          help="import the valid rows even when others are rejected")
        load.add_argument("--encoding", help="the text encoding of a CSV/TSV file (default: UTF-8)")
        load.add_argument("--json", action="store_true")

        dump = sub.add_parser("export", help="write every account code")
        dump.add_argument("--format", choices=FORMATS, default="csv", dest="file_format")
        dump.add_argument("--output", "-o", metavar="FILE")
        dump.add_argument("--bom", action="store_true", help="start a CSV/TSV file with a UTF-8 BOM (for Excel)")

        listing = sub.add_parser("list", help="list the account codes")
        listing.add_argument("--site", metavar="CODE", help="the codes valid on this site (its own and multisite)")
        listing.add_argument("--json", action="store_true")

        report = sub.add_parser("unallocated", help="outbound calls whose account code matches no account")
        report.add_argument("--site", metavar="CODE")
        report.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        return getattr(self, options["action"].replace("import", "load"))(options)

    def load(self, options):
        try:
            report = import_accounts(Path(options["file"]), dry_run=options["dry_run"],
                                     skip_invalid=options["skip_invalid"], encoding=options["encoding"])
        except FileRefused as exc:
            raise CommandError(str(exc)) from None
        finish(self, report, options["json"])

    def export(self, options):
        write_export(self, export_accounts, options, "account codes")

    def list(self, options):
        accounts = AccountCode.objects.select_related("site", "cost_center").order_by(
            F("site__code").asc(nulls_first=True), "normalized"
        )
        if options["site"]:
            site = get_site(options["site"])
            accounts = accounts.filter(Q(site=site) | Q(site__isnull=True))
        data = [
            {"code": a.code, "description": a.description, "site": a.site.code if a.site else None,
             "privacy_digits": a.privacy_digits, "cost_center": a.cost_center.code if a.cost_center else None,
             "replace_with_description": a.replace_with_description, "display": a.display}
            for a in accounts
        ]
        if options["json"]:
            print_json(data, self.stdout)
            return
        if not data:
            self.stdout.write("no account codes yet; import them with `calltally accounts import FILE`")
            return
        self.stdout.write(f"{'SITE':<10} {'CODE':<16} {'PRIVACY':>7}  {'COST CENTER':<12} {'SHOWN AS':<20} DESCRIPTION")
        for row in data:
            self.stdout.write(f"{row['site'] or '*':<10} {row['code']:<16} {row['privacy_digits']:>7}  "
                              f"{row['cost_center'] or '':<12} {row['display']:<20} {row['description']}")

    def unallocated(self, options):
        rows = unallocated_accounts(get_site(options["site"]) if options["site"] else None)
        if options["json"]:
            print_json([
                {"site": r["site__code"], "account_code": r["account_code"], "calls": r["calls"],
                 "first_start": r["first"].isoformat() if r["first"] else None,
                 "last_start": r["last"].isoformat() if r["last"] else None}
                for r in rows
            ], self.stdout)
            return
        if not rows:
            self.stdout.write("no unallocated account codes: every outbound call's code matches an account")
            return
        import zoneinfo

        self.stdout.write(f"{'SITE':<12} {'ACCOUNT CODE':<20} {'CALLS':>7}  {'FIRST':<16}  {'LAST':<16}")
        for r in rows:
            zone = zoneinfo.ZoneInfo(r["site__timezone"])
            first = r["first"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if r["first"] else "-"
            last = r["last"].astimezone(zone).strftime("%Y-%m-%d %H:%M") if r["last"] else "-"
            self.stdout.write(f"{r['site__code']:<12} {r['account_code']:<20} {r['calls']:>7}  {first:<16}  {last:<16}")
