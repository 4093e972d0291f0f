"""`calltally privacy export|erase (--person USERNAME | --number N)`: data-subject requests.

Both go through the page's form (:class:`calltally.privacy.forms.SubjectForm`). ``erase``
without ``--yes`` only says what it would erase, and exits with status 1."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import validation_message
from calltally.privacy import subjects
from calltally.privacy.forms import SubjectForm


def subject_flags(parser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", metavar="USERNAME", help="a person of the directory")
    who.add_argument("--number", metavar="N", help="an outside number")


class Command(BaseCommand):
    help = "Data-subject requests: export or erase everything about one person or one number (the spool included)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="export|erase")
        export = sub.add_parser("export", help="write everything about the person or number as JSON")
        subject_flags(export)
        export.add_argument("--output", metavar="FILE", required=True,
                            help="the JSON file to write (FILE.zip: the JSON and a CSV file per list)")
        erase = sub.add_parser("erase", help="erase everything about the person or number")
        subject_flags(erase)
        erase.add_argument("--yes", action="store_true", help="erase (without it: only say what would be erased)")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def footprint(self, options) -> subjects.Footprint:
        form = SubjectForm({"person": options["person"] or "", "number": options["number"] or ""})
        if not form.is_valid():
            raise CommandError(validation_message(ValidationError(form.errors)))
        return subjects.find(person=form.cleaned_data["person"], number=form.cleaned_data["number"])

    def do_export(self, options):
        found = self.footprint(options)
        # A FILE ending in .zip gets the JSON and a CSV file per list; any other name, the JSON.
        write = subjects.export_zip if options["output"].lower().endswith(".zip") else subjects.export_json
        body = write(found, via="command line")
        try:
            Path(options["output"]).write_bytes(body)
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc.strerror}") from None
        self.stdout.write(f"exported {found.describe()} to {options['output']}")

    def do_erase(self, options):
        found = self.footprint(options)
        if not options["yes"]:
            self.stdout.write(f"would erase {found.describe()}")
            raise CommandError("nothing was erased: add --yes to erase it")
        counts = subjects.erase(found, via="command line")
        self.stdout.write(f"erased {found.label}: {counts['calls']} calls ({counts['call_rows']} rows with legs), "
                          f"{counts['discarded_calls']} discarded calls, {counts['raw_records_blanked']} raw records "
                          f"blanked")
