"""`calltally users import|export`: people with their extensions, as CSV, TSV or XLSX."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.directory.commandkit import finish, write_export
from calltally.directory.importers import export_people, import_people
from calltally.directory.tabular import FORMATS, FileRefused


class Command(BaseCommand):
    help = "Import and export people with their extensions (CSV, TSV or XLSX)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="import|export")
        load = sub.add_parser("import", help="create and update people and extensions from a file")
        load.add_argument("file", metavar="FILE", help="CSV (comma or semicolon), TSV or XLSX")
        load.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
        load.add_argument("--skip-invalid", action="store_true",
                          help="import the valid rows even when others are rejected")
        load.add_argument("--delete-existing", action="store_true",
                          help="remove the people missing from the file (made inactive if they have calls)")
        load.add_argument("--encoding", help="the text encoding of a CSV/TSV file (default: UTF-8)")
        load.add_argument("--format", choices=FORMATS, dest="file_format",
                          help="read the file as this format, whatever its name")
        load.add_argument("--json", action="store_true", help="print the report as JSON")

        dump = sub.add_parser("export", help="write every person with their extensions")
        dump.add_argument("--format", choices=FORMATS, default="csv", dest="file_format")
        dump.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
        dump.add_argument("--bom", action="store_true", help="start a CSV/TSV file with a UTF-8 BOM (for Excel)")

    def handle(self, *args, **options):
        if options["action"] == "export":
            return self.export(options)
        try:
            report = import_people(
                Path(options["file"]), dry_run=options["dry_run"], skip_invalid=options["skip_invalid"],
                delete_existing=options["delete_existing"], encoding=options["encoding"],
                file_format=options["file_format"],
            )
        except FileRefused as exc:
            raise CommandError(str(exc)) from None
        finish(self, report, options["json"])

    def export(self, options):
        write_export(self, export_people, options, "people")
