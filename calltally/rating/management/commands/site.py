"""`calltally site add|list|set`."""

from __future__ import annotations

import json
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from calltally.cliutil import key_values, print_json
from calltally.sites.forms import SiteForm, errors_text
from calltally.sites.models import Site
from calltally.sites.services import get_site


def digit_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text or "")
    if not match:
        raise CommandError(f"--internal-digits {text!r} must be N or N-M, e.g. 4 or 3-5.")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return low, high


class Command(BaseCommand):
    help = "Add, list and change sites (one PBX each)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|set")

        add = sub.add_parser("add", help="add a site")
        add.add_argument("code")
        self._common(add, creating=True)

        change = sub.add_parser("set", help="change a site")
        change.add_argument("code")
        self._common(change, creating=False)

        listing = sub.add_parser("list", help="list the sites")
        listing.add_argument("--json", action="store_true")

    @staticmethod
    def _common(parser, creating: bool):
        parser.add_argument("--name", required=creating)
        parser.add_argument("--driver", required=creating, help="see `calltally drivers`")
        parser.add_argument("--country", required=creating, help="ISO 3166 code, e.g. IT")
        parser.add_argument("--area-code")
        parser.add_argument("--timezone")
        parser.add_argument("--currency")
        parser.add_argument("--access-code", action="append", dest="access_codes", metavar="DIGITS",
                            help="outside-line access code (repeat for several)")
        plan = parser.add_mutually_exclusive_group()
        plan.add_argument("--internal-digits", metavar="N|N-M")
        plan.add_argument("--internal-pattern", metavar="REGEX")
        parser.add_argument("--import-internal", action="store_true", default=None)
        parser.add_argument("--no-import-internal", dest="import_internal", action="store_false")
        parser.add_argument("--auto-acquire", action="store_true", default=None)
        parser.add_argument("--no-auto-acquire", dest="auto_acquire", action="store_false")
        parser.add_argument("--merge-legs", action="store_true", default=None,
                            help="merge the records of one call (ring group, transfer) into one call (default)")
        parser.add_argument("--no-merge-legs", dest="merge_legs", action="store_false")
        parser.add_argument("--transfer-billing", choices=["originator", "last-extension"],
                            help="who pays for a transferred call (default: originator)")
        parser.add_argument("--driver-option", action="append", dest="driver_options", metavar="KEY=VALUE",
                            help="a driver option (repeat); VALUE may be JSON")
        parser.add_argument("--tariff", metavar="PLAN", help="default tariff plan (see `calltally tariff list`)")
        parser.add_argument("--enabled", action="store_true", default=None)
        parser.add_argument("--disabled", dest="enabled", action="store_false")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            return self.list(options)
        if action == "add":
            if Site.objects.filter(code=options["code"]).exists():
                raise CommandError(f"site {options['code']!r} exists already; change it with `calltally site set`.")
            site = Site(code=options["code"])
        else:
            site = get_site(options["code"])
        before = (site.merge_legs, site.transfer_billing) if site.pk else None
        # The web's site form checks what is given here: one validation for both.
        form = SiteForm(self.form_data(site, options), instance=site)
        if not form.is_valid():
            raise CommandError(errors_text(form))
        with transaction.atomic():
            site = form.save()
            if options.get("tariff"):
                from calltally.rating.services import assign_plan

                try:
                    assign_plan(site, options["tariff"])
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
        verb = "added" if action == "add" else "updated"
        self.stdout.write(f"site {site.code} {verb}: {site.name}, driver {site.driver}, {site.country}, "
                          f"{site.timezone}, {site.currency}, extensions {site.extension_plan}"
                          + (f", tariff {options['tariff']}" if options.get("tariff") else ""))
        if before is not None and before != (site.merge_legs, site.transfer_billing):
            self.stdout.write(f"calls made before keep the old rule; `calltally recalc --site {site.code}` "
                              "applies the new one to them")

    @staticmethod
    def form_data(site: Site, options: dict) -> dict:
        """The site's stored values (a new site's defaults) with the options given laid over them."""
        data = SiteForm.data_of(site)
        data["code"] = site.code
        for field in ("name", "driver", "timezone", "country", "currency", "area_code"):
            if options.get(field) is not None:
                data[field] = options[field]
        for field in ("enabled", "import_internal", "auto_acquire", "merge_legs"):
            if options.get(field) is not None:
                data[field] = "true" if options[field] else "false"
        if options.get("transfer_billing"):
            data["transfer_billing"] = options["transfer_billing"].replace("-", "_")
        if options.get("access_codes") is not None:
            data["access_codes"] = ", ".join(code.strip() for code in options["access_codes"] if code.strip())
        if options.get("internal_digits"):
            data["internal_digits_min"], data["internal_digits_max"] = digit_range(options["internal_digits"])
            data["internal_pattern"] = ""
        if options.get("internal_pattern"):
            data["internal_pattern"] = options["internal_pattern"]
        if options.get("driver_options"):
            merged = dict(site.driver_options or {})
            merged.update(key_values(options["driver_options"], "--driver-option"))
            data["driver_options"] = json.dumps(merged)
        return data

    def list(self, options):
        sites = list(Site.objects.all())
        if options["json"]:
            print_json([
                {"code": s.code, "name": s.name, "driver": s.driver, "country": s.country,
                 "area_code": s.area_code, "timezone": s.timezone, "currency": s.currency,
                 "access_codes": s.access_codes, "extension_plan": s.extension_plan,
                 "import_internal": s.import_internal, "auto_acquire": s.auto_acquire,
                 "merge_legs": s.merge_legs, "transfer_billing": s.transfer_billing, "enabled": s.enabled}
                for s in sites
            ], self.stdout)
            return
        if not sites:
            self.stdout.write("no sites yet; add one with `calltally site add CODE --name N --driver D --country CC`")
            return
        self.stdout.write(f"{'CODE':<12} {'DRIVER':<14} {'CC':<3} {'TIMEZONE':<20} {'CUR':<4} {'EXTENSIONS':<14} NAME")
        for s in sites:
            flags = "" if s.enabled else " (disabled)"
            self.stdout.write(f"{s.code:<12} {s.driver:<14} {s.country:<3} {s.timezone:<20} {s.currency:<4} "
                              f"{s.extension_plan:<14} {s.name}{flags}")
