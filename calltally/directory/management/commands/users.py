"""`calltally users import|export`: people with their extensions, as CSV, TSV or XLSX."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.directory.importers import ImportReport, export_people, import_people, plural
from calltally.directory.tabular import FORMATS, FileRefused


def write_export(command: BaseCommand, exporter, options: dict, noun: str) -> None:
    """Run ``exporter`` to --output FILE or to standard output, as the options say."""
    file_format, output = options["file_format"], options["output"]
    if file_format == "xlsx" and not output:
        raise CommandError("an XLSX export needs --output FILE")
    try:
        if output:
            count = exporter(Path(output), file_format, bom=options["bom"])
            command.stderr.write(f"{count} {noun} written to {output}")
        else:
            buffer = io.StringIO()
            exporter(buffer, file_format, bom=options["bom"])
            command.stdout.write(buffer.getvalue(), ending="")
    except FileRefused as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from None


def finish(command: BaseCommand, report: ImportReport, as_json: bool) -> None:
    """Print an import report; fail (exit status 1) when the import was, or would be, refused."""
    if as_json:
        print_json(report.as_dict(), command.stdout)
    else:
        for line in report.lines():
            command.stdout.write(line)
    if report.error:
        raise CommandError(report.error)
    if report.refused:
        raise CommandError(f"{plural(len(report.rejected), 'row')} rejected; nothing imported "
                           "(correct them, or pass --skip-invalid to import the other rows)")


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
