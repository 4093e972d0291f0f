"""`calltally diagnose --output FILE.zip`: a support bundle with every secret removed."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.services.diagnostics import build


class Command(BaseCommand):
    help = ("Write a diagnostics bundle (versions, redacted settings, services, per-site counters, recent log, "
            "last raw records, undefined extensions) to send to support.")

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", required=True, metavar="FILE.zip")

    def handle(self, *args, output: str, **options):
        path = Path(output).expanduser()
        if path.suffix.lower() != ".zip":
            raise CommandError(f"--output {output!r} must end in .zip")
        try:
            names = build(path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.stdout.write(f"wrote {path} ({len(names)} files; passwords, tokens and keys removed)")
