"""`calltally import --site CODE FILE… [--json]`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.miner.pipeline import MineSummary, SiteMiner
from calltally.miner.report import summary_lines
from calltally.sites.services import get_site
from calltally.spool.services import import_is_complete, spool_file


class Command(BaseCommand):
    help = "Spool CDR files for a site and mine them; prints what became of every record."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True)
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    def handle(self, *args, **options):
        site = get_site(options["site"])
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path} is not a readable file")
        try:
            site.make_driver()
        except Exception as exc:
            raise CommandError(f"site {site.code}: its driver cannot start: {exc}") from None
        files, said = [], []
        for path in paths:
            try:
                # A file changed in the last minute may be a growing log read mid-line: its
                # unterminated last line waits for the next import (docs/collectors-files.md).
                result = spool_file(site, path, complete=import_is_complete(path))
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
            files.append({"file": str(path), "records": result.records, "already_imported": result.duplicate,
                          "continued_from_byte": result.continued_from, "pending_bytes": result.pending,
                          "note": result.note, "warning": result.warning})
            said.append(result.describe())
        summary: MineSummary = SiteMiner(site).mine()
        if options["json"]:
            print_json({"site": site.code, "files": files, **summary.as_dict()}, self.stdout)
            return
        for item, text in zip(files, said, strict=True):
            # A warning (an edited file, a cut record) is part of the line: see SpoolFileResult.describe.
            state = "already imported, skipped" if item["already_imported"] and not item["records"] else text
            self.stdout.write(f"{item['file']}: {state}")
        for line in summary_lines(summary):
            self.stdout.write(line)
