"""`calltally schedule add|list|show|run|history|remove`: scheduled reports from the command line.

``add`` builds the data of the web page's form (calltally.schedules.forms.ScheduleForm) from its
flags, so the same rules hold on both; the report option flags are ``calltally report``'s, without
dates (a schedule's period is relative). ``--to`` here is a recipient's address.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from calltally.accounts.models import Role
from calltally.accounts.scope import Scope
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.cliutil import print_json
from calltally.reports.management.commands.report import VALUE_FLAGS
from calltally.schedules import services
from calltally.schedules.forms import ScheduleForm
from calltally.schedules.models import Format, Schedule, ScheduleRun

# The report option flags a schedule takes: every one of `calltally report`'s but the dates.
OPTION_FLAGS = [flag for flag in VALUE_FLAGS if flag[1] not in ("period", "date_from", "date_to", "time_from",
                                                                 "time_to")]


def local(moment, schedule: Schedule) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(schedule.recurrence().tz).strftime("%Y-%m-%d %H:%M %z")


def schedule_dict(schedule: Schedule) -> dict:
    last = schedule.runs.first()
    return {
        "name": schedule.name, "report": schedule.report, "period": schedule.period, "format": schedule.format,
        "options": schedule.options, "addresses": schedule.addresses,
        "people": list(schedule.people.values_list("username", flat=True)), "roles": schedule.roles,
        "burst": schedule.burst or None, "folder": schedule.folder or None,
        "every": schedule.every, "cron": schedule.cron or None, "at": schedule.at.strftime("%H:%M"),
        "weekday": schedule.weekday, "day": schedule.day, "time_zone": schedule.time_zone,
        "when": schedule.recurrence().describe(), "enabled": schedule.enabled,
        "owner": schedule.owner.get_username() if schedule.owner_id else None,
        "next_due": schedule.next_due.isoformat() if schedule.next_due else None,
        "next_due_local": local(schedule.next_due, schedule) if schedule.next_due else None,
        "last_run": last.state if last else None,
    }


def run_dict(run: ScheduleRun) -> dict:
    return {
        "id": run.pk, "schedule": run.schedule.name, "due": run.due.isoformat(), "manual": run.manual,
        "state": run.state, "first_day": run.first_day.isoformat() if run.first_day else None,
        "last_day": run.last_day.isoformat() if run.last_day else None, "sent": run.sent_count,
        "failed": run.failed_count, "skipped": run.skipped_count, "missed": run.missed_count,
        "message": run.message,
        "deliveries": [{"address": d.address, "kind": d.kind, "scope": d.scope_text, "state": d.state,
                        "attempts": d.attempts, "error": d.last_error or None,
                        "sent_at": d.sent_at.isoformat() if d.sent_at else None, "rows": d.rows}
                       for d in run.deliveries.all()],
    }


class Command(BaseCommand):
    help = "Scheduled reports: add, list, show, run now, history, remove."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|show|run|history|due|remove")
        add = sub.add_parser("add", help="schedule a report (the web page's rules)")
        add.add_argument("name", metavar="NAME")
        add.add_argument("--report", required=True, metavar="REPORT", help="a report of `calltally report list`")
        add.add_argument("--period", default="yesterday", metavar="PRESET",
                         help="yesterday, last-week, last-month, this-month (month to date), last-quarter…")
        for flag, dest, metavar, text in OPTION_FLAGS:
            add.add_argument(flag, dest=dest, metavar=metavar, help=text)
        add.add_argument("--site", dest="site", action="append", metavar="CODE", help="repeatable, or commas")
        add.add_argument("--plan", dest="plan", action="append", metavar="NAME", help="tariff comparison")
        answered = add.add_mutually_exclusive_group()
        answered.add_argument("--answered", dest="answered", action="store_const", const="answered")
        answered.add_argument("--unanswered", dest="answered", action="store_const", const="unanswered")
        add.add_argument("--format", choices=Format.values, default="pdf")
        add.add_argument("--to", dest="to", action="append", metavar="ADDRESS",
                         help="a recipient's e-mail address (repeatable, or commas)")
        add.add_argument("--person-recipient", dest="person_recipients", action="append", metavar="USERNAME",
                         help="a directory person, at their e-mail (repeatable)")
        add.add_argument("--role", dest="roles", action="append", choices=Role.values,
                         help="every active account of the role with an e-mail (repeatable)")
        add.add_argument("--burst", choices=("managers", "people"),
                         help="managers: each cost-center manager their subtree; people: each person their calls")
        add.add_argument("--folder", metavar="PATH", help="write the files to this folder instead of mailing")
        add.add_argument("--every", required=True, metavar="daily|weekly|monthly|CRON")
        add.add_argument("--at", default="07:00", metavar="HH:MM")
        add.add_argument("--time-zone", dest="time_zone", metavar="ZONE", help="IANA zone (default: CallTally's)")
        add.add_argument("--weekday", metavar="DAY", help="weekly: monday … sunday")
        add.add_argument("--day", metavar="N", help="monthly: day of the month (clamped to the month's end)")
        add.add_argument("--owner", metavar="USERNAME", help="run with this account's scope (default: every call)")
        add.add_argument("--disabled", action="store_true", help="add it switched off")
        for name in ("list", "history"):
            listing = sub.add_parser(name, help="the schedules" if name == "list" else "the runs, newest first")
            if name == "history":
                listing.add_argument("name", nargs="?", metavar="NAME")
                listing.add_argument("--limit", type=int, default=20)
            listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="one schedule")
        show.add_argument("name", metavar="NAME")
        show.add_argument("--json", action="store_true")
        run = sub.add_parser("run", help="run a schedule now (outside its recurrence) and say what was delivered")
        run.add_argument("name", metavar="NAME")
        run.add_argument("--json", action="store_true")
        due = sub.add_parser("due", help="start and send what is due now, once (what the Scheduler does each "
                                         "minute; for an installation without it)")
        due.add_argument("--json", action="store_true")
        remove = sub.add_parser("remove", help="delete a schedule and its history")
        remove.add_argument("name", metavar="NAME")

    def handle(self, *args, **options):
        return getattr(self, f"do_{options['action']}")(options)

    def schedule(self, name: str) -> Schedule:
        schedule = Schedule.objects.filter(name=name).first()
        if schedule is None:
            raise CommandError(f"no scheduled report named {name!r}; `calltally schedule list` shows them")
        return schedule

    def do_add(self, options):
        data = {"name": options["name"], "report": options["report"], "period": options["period"],
                "format": options["format"], "every": options["every"], "at": options["at"],
                "time_zone": options["time_zone"] or "", "weekday": options["weekday"] or "",
                "day": options["day"] or "1", "owner": options["owner"] or "", "burst": options["burst"] or "",
                "folder": options["folder"] or "", "enabled": not options["disabled"]}
        for _, dest, _, _ in OPTION_FLAGS:
            if options[dest] is not None:
                data[dest] = options[dest]
        for dest in ("site", "plan", "to", "person_recipients"):
            if options[dest]:
                data[dest] = ",".join(options[dest])
        if options["roles"]:
            data["roles"] = options["roles"]
        if options["answered"]:
            data["answered"] = options["answered"]
        if not data["time_zone"]:
            from django.conf import settings

            data["time_zone"] = settings.TIME_ZONE
        form = ScheduleForm(data, scope=Scope(Role.ADMINISTRATOR))
        if not form.is_valid():
            raise CommandError("the schedule was not added: " + error_text(form))
        with transaction.atomic():
            schedule = form.save()
        audit.record(None, Action.CREATE, obj=schedule, after=audit.snapshot(schedule), username="cli")
        self.stdout.write(f"scheduled report {schedule.name} added: {schedule.report}, {schedule.period}, "
                          f"{schedule.format}, to {schedule.recipients_text()}, {schedule.recurrence().describe()}; "
                          f"next run {local(schedule.next_due, schedule)}"
                          + ("" if schedule.enabled else " (disabled)"))

    def do_list(self, options):
        schedules = list(Schedule.objects.select_related("owner").prefetch_related("people"))
        if options["json"]:
            print_json([schedule_dict(s) for s in schedules], self.stdout)
            return
        if not schedules:
            self.stdout.write("no scheduled reports; `calltally schedule add` adds one")
            return
        self.stdout.write(f"{'NAME':<20}  {'REPORT':<24}  {'PERIOD':<12}  {'FORMAT':<6}  {'NEXT RUN':<22}  "
                          f"{'LAST':<13}  RECIPIENTS")
        for s in schedules:
            last = s.runs.first()
            self.stdout.write(f"{s.name:<20}  {s.report:<24}  {s.period:<12}  {s.format:<6}  "
                              f"{(local(s.next_due, s) if s.enabled else 'disabled'):<22}  "
                              f"{(last.state if last else '—'):<13}  {s.recipients_text()}")

    def do_show(self, options):
        schedule = self.schedule(options["name"])
        data = schedule_dict(schedule)
        if options["json"]:
            print_json(data, self.stdout)
            return
        for key, value in data.items():
            if value not in (None, [], {}, ""):
                self.stdout.write(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")

    def do_run(self, options):
        schedule = self.schedule(options["name"])
        run = services.run_now(schedule)
        run = ScheduleRun.objects.select_related("schedule").get(pk=run.pk)
        audit.record(None, Action.EXPORT, obj=schedule, username="cli", what="scheduled report run now",
                     run=run.pk, state=run.state)
        if options["json"]:
            print_json(run_dict(run), self.stdout)
        else:
            self.print_run(run)
        if run.state in ("failed", "partly-failed") or (run.state == "running" and run.failed_count == 0
                                                         and run.deliveries.filter(state="failed").exists()):
            raise CommandError(f"run of {schedule.name}: {run.get_state_display().lower()} — {run.message}")

    def print_run(self, run: ScheduleRun) -> None:
        days = f" {run.first_day} to {run.last_day}" if run.first_day else ""
        self.stdout.write(f"{run.schedule.name} run #{run.pk} ({'now' if run.manual else 'scheduled'}, due "
                          f"{local(run.due, run.schedule)},{days}): {run.state} — {run.message}")
        for d in run.deliveries.all():
            self.stdout.write(f"  {d.state:<7}  {d.address}  ({d.scope_text})"
                              + (f"  {d.rows} rows" if d.rows is not None else "")
                              + (f"  attempt {d.attempts}: {d.last_error}" if d.last_error else ""))

    def do_history(self, options):
        runs = ScheduleRun.objects.select_related("schedule").prefetch_related("deliveries")
        if options["name"]:
            runs = runs.filter(schedule=self.schedule(options["name"]))
        runs = list(runs[: options["limit"]] if options["limit"] else runs)
        if options["json"]:
            print_json([run_dict(r) for r in runs], self.stdout)
            return
        if not runs:
            self.stdout.write("no runs yet")
        for run in runs:
            self.print_run(run)

    def do_due(self, options):
        said = services.run_due()
        if options["json"]:
            print_json({"result": said}, self.stdout)
        else:
            self.stdout.write(said)

    def do_remove(self, options):
        schedule = self.schedule(options["name"])
        before = audit.snapshot(schedule)
        schedule.delete()
        audit.record(None, Action.DELETE, obj=schedule, before=before, text=options["name"], username="cli")
        self.stdout.write(f"scheduled report {options['name']} removed")


def error_text(form: ScheduleForm) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        parts.append(text if name == "__all__" else f"{form.fields[name].label or name}: {text}")
    return "; ".join(parts)
