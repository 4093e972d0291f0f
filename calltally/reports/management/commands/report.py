"""`calltally report list` and `calltally report NAME [options] --format csv|xlsx|pdf|json [--output FILE]`.

The flags are the report options, validated by the same form as the web pages and the API
(calltally.reports.options.OptionsForm): a wrong option gets the form's own words.
"""

from __future__ import annotations

import importlib
import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from calltally.accounts.scope import Scope, scope_of
from calltally.reports import catalogue
from calltally.reports.options import PERIODS, OptionsError, validate
from calltally.reports.output import write_csv, write_json

# The exporters other formats are written by (a module with ``write(result, stream)``).
EXPORTERS = {"xlsx": "calltally.reports.export_xlsx", "pdf": "calltally.reports.export_pdf"}
FORMATS = ("csv", "xlsx", "pdf", "json")

# flag → form field; each takes one value (sites and plans may be repeated or comma-separated).
VALUE_FLAGS = (
    ("--period", "period", "PRESET", f"one of {', '.join(PERIODS)} (default: this-month)"),
    ("--from", "date_from", "DATE", "first day (YYYY-MM-DD), in each site's time zone; a custom range"),
    ("--from-time", "time_from", "HH:MM", "time of day on the first day"),
    ("--to", "date_to", "DATE", "last day, included"),
    ("--to-time", "time_to", "HH:MM", "time of day on the last day (excluded)"),
    ("--cost-center", "cost_center", "CODE", "a cost center and every one below it"),
    ("--person", "person", "USERNAME", "one person's calls"),
    ("--extension", "extension", "N", "one extension number"),
    ("--direction", "direction", "D", "inbound, outbound or internal"),
    ("--category", "category", "C", "local, national, mobile, international…"),
    ("--destination", "destination", "NAME", "a destination as rated (e.g. a country)"),
    ("--tariff", "tariff", "NAME", "the tariff plan that priced the calls"),
    ("--trunk", "trunk", "NAME", "a trunk/device"),
    ("--account", "account", "NAME", "an account as shown (its description where the code is replaced)"),
    ("--currency", "currency", "CODE", "calls charged in this currency only (e.g. EUR)"),
    ("--remote", "remote", "PATTERN", "remote number: * any digits, ! excludes, commas between patterns"),
    ("--min-duration", "min_duration", "S", "calls that lasted at least S seconds"),
    ("--min-cost", "min_cost", "X", "calls that cost at least X"),
    ("--ignore-short-missed", "ignore_short_missed", "S", "leave out missed calls that rang less than S seconds"),
    ("--top", "top", "N", "rows of a top N report (default 10)"),
    ("--within", "within", "S", "inbound performance: answered within S seconds (default 20)"),
)


def list_flag(parser, flag, dest, metavar, text):
    parser.add_argument(flag, dest=dest, action="append", metavar=metavar, help=text)


class Command(BaseCommand):
    help = "Run a report of the catalogue (report list shows them) and write it as CSV, XLSX, PDF or JSON."

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME", help="list, or a report's name")
        for flag, dest, metavar, text in VALUE_FLAGS:
            parser.add_argument(flag, dest=dest, metavar=metavar, help=text)
        list_flag(parser, "--site", "site", "CODE", "one site's calls (repeat, or commas, for several)")
        list_flag(parser, "--plan", "plan", "NAME", "tariff comparison: a plan to compare with (repeatable)")
        answered = parser.add_mutually_exclusive_group()
        answered.add_argument("--answered", dest="answered", action="store_const", const="answered",
                              help="answered calls only")
        answered.add_argument("--unanswered", dest="answered", action="store_const", const="unanswered",
                              help="unanswered calls only")
        parser.add_argument("--format", choices=FORMATS, default=None, help="csv, xlsx, pdf or json")
        parser.add_argument("--output", metavar="FILE", help="default: standard output (csv and json)")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="run with the scope of this sign-in account (default: everything, as an "
                                 "administrator on the server)")

    def handle(self, *args, **options):
        if options["name"] == "list":
            return self.list_reports(options)
        try:
            report = catalogue.get_report(options["name"])
        except catalogue.UnknownReport as exc:
            raise CommandError(str(exc)) from None
        fmt = options["format"]
        if fmt is None:
            raise CommandError("say which format: --format csv, xlsx, pdf or json")
        self.as_user = options["as_user"]
        scope = self.scope(self.as_user)
        data = {dest: options[dest] for _, dest, _, _ in VALUE_FLAGS if options[dest] is not None}
        for dest in ("site", "plan"):
            if options[dest]:
                data[dest] = options[dest]
        if options["answered"]:
            data["answered"] = options["answered"]
        try:
            report_options = validate(data, scope)
        except OptionsError as exc:
            raise CommandError(f"invalid options: {exc}") from None
        result = report.run(report_options, scope)
        if fmt in EXPORTERS:
            return self.export(fmt, result, options["output"])
        stream = self.open(options["output"], binary=False)
        try:
            if fmt == "json":
                write_json(result, stream)
            else:
                write_csv(result, stream)
        finally:
            if stream is not sys.stdout and stream is not self.stdout:
                stream.close()
        if options["output"]:
            self.stderr.write(f"{report.name} written to {options['output']}")

    def list_reports(self, options):
        width = max(len(r.name) for r in catalogue.catalogue())
        if options["format"] == "json":
            self.stdout.write(json.dumps([{"name": r.name, "title": r.title, "group": r.group,
                                           "description": r.description} for r in catalogue.catalogue()],
                                         ensure_ascii=False, indent=2))
            return
        group = None
        for report in catalogue.catalogue():
            if report.group != group:
                group = report.group
                self.stdout.write(f"{'' if report is catalogue.catalogue()[0] else chr(10)}{group}")
            self.stdout.write(f"  {report.name.ljust(width)}  {report.title}")

    def scope(self, username: str | None) -> Scope:
        if not username:
            return Scope("administrator")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no sign-in account named {username!r} (calltally account list shows them)")
        return scope_of(user)

    def open(self, path: str | None, binary: bool):
        if not path:
            self.stdout.ending = ""
            return self.stdout
        try:
            return open(path, "wb" if binary else "w", **({} if binary else {"newline": "", "encoding": "utf-8"}))
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from None

    def export(self, fmt: str, result, path: str | None):
        try:
            module = importlib.import_module(EXPORTERS[fmt])
        except ImportError:
            raise CommandError(f"--format {fmt} is not available yet: use csv or json") from None
        if not path:
            if sys.stdout.isatty():
                raise CommandError(f"--format {fmt} is binary: name a file with --output FILE")
            stream = sys.stdout.buffer
        else:
            stream = self.open(path, binary=True)
        try:
            # The file says whose view of the calls it holds.
            module.write(result, stream, account=self.as_user or "calltally report (every call)")
        finally:
            if path:
                stream.close()
        if path:
            self.stderr.write(f"{result.report.name} written to {path}")
