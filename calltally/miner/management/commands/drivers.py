"""`calltally drivers`: the PBX drivers, one per line, name first."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from calltally.cliutil import print_json
from calltally.drivers import registry


class Command(BaseCommand):
    help = "List the PBX drivers."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        drivers = [registry()[name] for name in sorted(registry())]
        if options["json"]:
            print_json([
                {"name": d.name, "brand": d.brand, "models": d.models, "transport": d.transport,
                 "description": d.description}
                for d in drivers
            ], self.stdout)
            return
        for d in drivers:
            self.stdout.write(f"{d.name:<14} {d.brand} {d.models} — {d.description} (usually {d.transport})")
