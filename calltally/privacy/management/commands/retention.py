"""`calltally retention show|set|run`: the retention limits, and applying them now.

``set`` goes through the settings page's form (:class:`calltally.system.forms.RetentionForm`):
the flags given change their limit, the others keep theirs, and the form's checks (raw records
kept at least as long as calls, masking before deletion) hold for both."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json, validation_message
from calltally.privacy import services
from calltally.system.forms import RetentionForm
from calltally.system.models import RetentionSettings
from calltally.system.services import save_settings

FLAGS = (("--calls-days", "calls_days", "delete calls older than N days (0: keep for ever)"),
         ("--raw-days", "raw_days", "delete raw spool day files older than N days (0: keep for ever)"),
         ("--mask-after-days", "mask_after_days", "mask the numbers of calls older than N days (0: never)"),
         ("--mask-digits", "mask_digits", "how many trailing digits masking hides"))


def days(value: int, unit: str = "days") -> str:
    return f"{value} {unit}" if value else "0 (for ever)"


def describe(limits: RetentionSettings) -> list[str]:
    return [f"calls kept:        {days(limits.calls_days)}",
            f"raw records kept:  {days(limits.raw_days)}",
            "numbers masked:    " + (f"after {limits.mask_after_days} days, the last {limits.mask_digits} digits"
                                      if limits.mask_after_days else "never")]


class Command(BaseCommand):
    help = ("Data retention: show the limits, set them, or apply them now (the Scheduler applies them once a "
            "day).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="show|set|run")
        show = sub.add_parser("show", help="the limits and the last runs")
        show.add_argument("--json", action="store_true")
        setting = sub.add_parser("set", help="change the limits given (the others stay)")
        for flag, dest, text in FLAGS:
            setting.add_argument(flag, dest=dest, type=int, metavar="N", help=text)
        run = sub.add_parser("run", help="delete and mask what is older than its limit, now")
        run.add_argument("--dry-run", action="store_true", help="only say what would be deleted and masked")
        run.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_show(self, options):
        limits = RetentionSettings.load()
        runs = list(services.last_runs(5))
        if options["json"]:
            values = {name: getattr(limits, name) for _, name, _ in FLAGS}
            print_json({**values, "runs": [{"when": run.when.isoformat(), "by": run.username or None,
                                            **{k: v for k, v in run.details.items() if k != "task"}}
                                           for run in runs]}, self.stdout)
            return
        for line in describe(limits):
            self.stdout.write(line)
        for run in runs:
            d = run.details
            self.stdout.write(f"run {run.when:%Y-%m-%d %H:%M} UTC by {run.username or 'the Scheduler'}: "
                              f"{d.get('calls_deleted', 0)} call rows, {d.get('raw_days_deleted', 0)} raw day files "
                              f"deleted, {d.get('calls_masked', 0)} calls masked")

    def do_set(self, options):
        limits = RetentionSettings.load()
        data = {name: getattr(limits, name) for _, name, _ in FLAGS}
        given = {name: options[name] for _, name, _ in FLAGS if options[name] is not None}
        if not given:
            raise CommandError("give at least one of " + ", ".join(flag for flag, _, _ in FLAGS))
        data.update(given)
        form = RetentionForm(data)
        if not form.is_valid():
            raise CommandError(validation_message(ValidationError(form.errors)))
        saved = save_settings(None, form, via="command line")
        for line in describe(saved):
            self.stdout.write(line)

    def do_run(self, options):
        result = services.retention(dry_run=options["dry_run"])
        if options["json"]:
            print_json({"dry_run": result.dry_run, **result.counts()}, self.stdout)
            return
        self.stdout.write(result.summary())
