"""`calltally drivers [list]` and `calltally drivers detect FILE`."""

from __future__ import annotations

import shlex
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.drivers import registry
from calltally.drivers.detect import SAMPLE_LINES, detect

MAX_SAMPLE_BYTES = 4 * 1024 * 1024


class Command(BaseCommand):
    help = "List the PBX drivers (name first), or find the driver that reads a sample file."

    def add_arguments(self, parser):
        # Sub-commands, so that options may come before or after the file (`detect --json FILE`).
        parser.add_argument("--json", action="store_true")
        sub = parser.add_subparsers(dest="action", metavar="list|detect")
        listing = sub.add_parser("list", help="the PBX drivers, one per line, name first")
        listing.add_argument("--json", action="store_true")
        detecting = sub.add_parser("detect", help="which driver reads a sample file, with its options")
        detecting.add_argument("file", nargs="?", help="a sample of the PBX's records")
        detecting.add_argument("--lines", type=int, default=SAMPLE_LINES, help="lines to read")
        detecting.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        if options["action"] == "detect":
            return self.detect(options)
        drivers = [registry()[name] for name in sorted(registry())]
        if options["json"]:
            print_json([
                {"name": d.name, "brand": d.brand, "models": d.models, "transport": d.transport,
                 "description": d.description}
                for d in drivers
            ], self.stdout)
            return
        for d in drivers:
            self.stdout.write(f"{d.name:<16} {d.brand} {d.models} — {d.description} (usually {d.transport})")

    def detect(self, options):
        if not options["file"]:
            raise CommandError("drivers detect needs a FILE: a sample of the records the PBX sends")
        path = Path(options["file"])
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SAMPLE_BYTES)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        found = detect(data, max(1, options["lines"]))
        if options["json"]:
            print_json([candidate.as_dict() for candidate in found], self.stdout)
            return
        if not found:
            self.stdout.write("no driver reads this sample; try generic_csv with a column mapping (docs/drivers.md)")
            return
        self.stdout.write(f"{'DRIVER':<16} {'CONFIDENCE':>10}  CALLS/LINES  OPTIONS")
        for c in found:
            extra = " ".join(shlex.quote(argument) for argument in c.driver_options())
            self.stdout.write(f"{c.driver:<16} {c.confidence:>9.0%}  {c.calls:>5}/{c.lines:<5}  {extra}")
        best = found[0]
        # The first candidate's settings, ready to paste after `calltally site add CODE …` (or `site set CODE`).
        self.stdout.write("")
        self.stdout.write(f"Best: {best.driver}, reading {best.calls} of {best.lines} lines as calls. "
                          "Give the site (calltally site add CODE … or calltally site set CODE):")
        note = "" if best.options else "   (no driver options needed)"
        self.stdout.write(f"  {best.site_arguments()}{note}")
        # Other option sets of the same driver that read the sample just as well (dates that are valid
        # day first and month first, all on one day): only a look at the records can tell.
        same = [c for c in found[1:] if c.driver == best.driver and c.confidence == best.confidence
                and c.spread == best.spread and c.options != best.options]
        if same:
            others = "; ".join(" ".join(shlex.quote(a) for a in c.driver_options()) or "no options" for c in same)
            self.stdout.write(f"  The sample reads as well with: {others}. Compare a call's date and time with the "
                              "PBX's own display to choose.")
