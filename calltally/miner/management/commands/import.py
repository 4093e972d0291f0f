"""`calltally import --site CODE FILE… [--json]`."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.miner.pipeline import MineSummary, SiteMiner
from calltally.miner.report import summary_lines
from calltally.sites.services import get_site
from calltally.spool.models import SpoolSegment
from calltally.spool.services import import_is_complete, spool_file
from calltally.spool.storage import default_spool

# How often the import looks whether the running Miner service has mined its records.
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Spool CDR files for a site and mine them; prints what became of every record."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True)
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        parser.add_argument(
            "--wait", type=int, default=600, metavar="SECONDS",
            help="when the Miner service (calltally up) mines the records, wait this long for it to finish "
                 "them before reporting (default 600; 0: report them as handed over)")

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
        spool = default_spool()
        before = {day: spool.size(site.code, day) for day in spool.days(site.code)}
        files, said, tags = [], [], set()
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
            if result.records:
                tags.add(result.tag)
        spooled = sum(item["records"] for item in files)
        ranges = [(day, before.get(day, 0), spool.size(site.code, day)) for day in spool.days(site.code)
                  if spool.size(site.code, day) > before.get(day, 0)]
        miner = SiteMiner(site)
        summary: MineSummary = miner.mine()
        if summary.records < spooled:
            # Another process (the Miner service of `calltally up`) mined some of them: report
            # what became of every imported record, whoever mined it, once its checkpoint has
            # passed them (or say which are still to be mined).
            mined_here = summary
            self.wait_for_miner(site, ranges, options["wait"], options["json"])
            summary = miner.summary_of(ranges, tags)
            summary.mined_elsewhere = summary.records - summary.pending - mined_here.records
            for name in ("unrated", "unallocated_accounts", "auto_acquired", "reading_problem", "seconds"):
                setattr(summary, name, getattr(mined_here, name))
        if options["json"]:
            print_json({"site": site.code, "files": files, **summary.as_dict()}, self.stdout)
            return
        for item, text in zip(files, said, strict=True):
            # A warning (an edited file, a cut record) is part of the line: see SpoolFileResult.describe.
            state = "already imported, skipped" if item["already_imported"] and not item["records"] else text
            self.stdout.write(f"{item['file']}: {state}")
        for line in summary_lines(summary):
            self.stdout.write(line)

    def wait_for_miner(self, site, ranges: list, seconds: int, quiet: bool) -> None:
        """Wait until the site's checkpoints pass the imported records, or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        told = False
        while True:
            behind = [(day, end) for day, _, end in ranges
                      if (SpoolSegment.objects.filter(site=site, day=day).values_list("mined_offset", flat=True)
                          .first() or 0) < end]
            if not behind or time.monotonic() >= deadline:
                return
            if not told and not quiet:
                self.stderr.write(f"the Miner service is mining these records; waiting for it (at most {seconds} s, "
                                  "--wait to change)…")
                told = True
            time.sleep(POLL_SECONDS)
