"""What the commands that import and export directory files share (people, account codes)."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json

from .importers import ImportReport, plural
from .tabular import FileRefused


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
