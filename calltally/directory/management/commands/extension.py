"""`calltally extension add|list|remove`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from calltally.cliutil import full_clean_or_error, print_json
from calltally.directory.forms import ExtensionForm
from calltally.directory.models import CostCenter, Extension, Person
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "Add, list and remove extensions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|remove")
        add = sub.add_parser("add", help="add (or update) an extension")
        add.add_argument("--site", required=True)
        add.add_argument("number")
        add.add_argument("--person", metavar="USERNAME", help="owner; created when it does not exist yet")
        add.add_argument("--cost-center", metavar="CODE", help="created when it does not exist yet")
        add.add_argument("--no-billing", dest="billing", action="store_false", default=True)

        listing = sub.add_parser("list", help="list extensions")
        listing.add_argument("--site")
        listing.add_argument("--json", action="store_true")

        remove = sub.add_parser("remove", help="remove an extension (its calls stay)")
        remove.add_argument("--site", required=True)
        remove.add_argument("number")

    def handle(self, *args, **options):
        return getattr(self, options["action"])(options)

    @transaction.atomic
    def add(self, options):
        site = get_site(options["site"])
        notes = []
        cost_center = None
        if options["cost_center"]:
            cost_center, created = CostCenter.objects.get_or_create(
                code=options["cost_center"], defaults={"name": options["cost_center"]}
            )
            if created:
                full_clean_or_error(cost_center)
                notes.append(f"created cost center {cost_center.code}")
        person = None
        if options["person"]:
            person = Person.objects.filter(username=options["person"]).first()
            if person is None:
                person = Person(username=options["person"], site=site, cost_center=cost_center)
                full_clean_or_error(person)
                person.save()
                notes.append(f"created person {person.username}")
            elif cost_center and person.cost_center_id is None:
                person.cost_center = cost_center
                person.save(update_fields=["cost_center"])
        extension = Extension.objects.filter(site=site, number=options["number"]).first()
        verb = "updated" if extension else "added"
        # The extension is checked by the form the web pages and the importers use.
        data = ExtensionForm.values(extension, aliases=list(extension.aliases.values_list("number", flat=True))) \
            if extension else {"site": site.code, "number": options["number"], "person": "", "cost_center": "",
                               "aliases": ""}
        if person is not None:
            data["person"] = person.username
        if cost_center is not None:
            data["cost_center"] = cost_center.code
        data["billing_enabled"] = options["billing"]
        form = ExtensionForm(data, instance=extension or Extension())
        if not form.is_valid():
            raise CommandError(form.error_text())
        form.instance.auto_acquired = False
        extension = form.save()
        owner = f" for {extension.person.username}" if extension.person else " (unassigned)"
        suffix = f" ({'; '.join(notes)})" if notes else ""
        self.stdout.write(f"extension {extension.number} {verb} on site {site.code}{owner}{suffix}")

    def list(self, options):
        rows = Extension.objects.select_related("site", "person", "cost_center")
        if options["site"]:
            rows = rows.filter(site=get_site(options["site"]))
        data = [
            {"site": e.site.code, "number": e.number, "person": e.person.username if e.person else "",
             "cost_center": e.cost_center.code if e.cost_center else "", "billing_enabled": e.billing_enabled,
             "auto_acquired": e.auto_acquired}
            for e in rows
        ]
        if options["json"]:
            print_json(data, self.stdout)
            return
        self.stdout.write(f"{'SITE':<12} {'NUMBER':<12} {'PERSON':<20} {'COST CENTER':<14} BILLING")
        for row in data:
            self.stdout.write(f"{row['site']:<12} {row['number']:<12} {row['person']:<20} {row['cost_center']:<14} "
                              f"{'yes' if row['billing_enabled'] else 'no'}{' (auto)' if row['auto_acquired'] else ''}")

    def remove(self, options):
        site = get_site(options["site"])
        deleted, _ = Extension.objects.filter(site=site, number=options["number"]).delete()
        if not deleted:
            raise CommandError(f"site {site.code} has no extension {options['number']!r}")
        self.stdout.write(f"extension {options['number']} removed from site {site.code}")
