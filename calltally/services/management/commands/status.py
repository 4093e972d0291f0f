"""`calltally status [--json]`: sites and services at a glance; `--set-silence` configures the silent-site alarm."""

from __future__ import annotations

import datetime as dt
import re

from django.core.management.base import BaseCommand, CommandError

from calltally.alerts.models import SiteMonitoring
from calltally.cliutil import full_clean_or_error, print_json
from calltally.services import control
from calltally.services.status import system_status
from calltally.sites.services import get_site
from calltally.vocabulary import WEEKDAYS

from .service import table


def parse_days(text: str) -> list[int]:
    """mon-fri, mon,wed,fri, sat-sun, or 0-4 style weekday lists."""
    days: set[int] = set()

    def one(token: str) -> int:
        token = token.strip().lower()[:3]
        if token.isdigit() and 0 <= int(token) <= 6:
            return int(token)
        if token in WEEKDAYS:
            return WEEKDAYS.index(token)
        raise CommandError(f"--days {text!r}: {token!r} is not a weekday; use mon, tue … sun, e.g. mon-fri")

    for part in text.split(","):
        if not part.strip():
            continue
        low, sep, high = part.partition("-")
        if sep:
            first, last = one(low), one(high)
            day = first
            while True:
                days.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
        else:
            days.add(one(low))
    if not days:
        raise CommandError("--days names no weekday")
    return sorted(days)


def parse_time(text: str, option: str) -> dt.time:
    if not re.fullmatch(r"\d{1,2}:\d{2}", text or ""):
        raise CommandError(f"{option} {text!r} is not a time; use HH:MM, e.g. 08:00")
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time(23, 59, 59)
    try:
        return dt.time(hours, minutes)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a time of day") from None


def size_text(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


class Command(BaseCommand):
    help = ("Show the data dir and database read, every site (connections, last record, today's counters "
            "since midnight in the site's time zone, silence) and every service.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object")
        parser.add_argument("--set-silence", nargs=2, metavar=("SITE", "HOURS"),
                            help="alarm when SITE receives nothing for HOURS business hours (0 turns it off)")
        parser.add_argument("--days", help="business days for --set-silence, e.g. mon-fri (default: unchanged)")
        parser.add_argument("--from", dest="business_start", metavar="HH:MM", help="business hours start")
        parser.add_argument("--to", dest="business_end", metavar="HH:MM", help="business hours end")

    def handle(self, *args, **options):
        if options["set_silence"]:
            self.set_silence(options)
            return
        if options["days"] or options["business_start"] or options["business_end"]:
            raise CommandError("--days, --from and --to go with --set-silence SITE HOURS")
        status = system_status()
        if options["json"]:
            print_json(status, self.stdout)
            return
        write = self.stdout.write
        write(f"Data dir: {status['data_dir']}")
        write(f"Database: {status['database']}")
        write("")
        if not status["sites"]:
            write("No sites yet: add one with `calltally site add`.")
        for site in status["sites"]:
            flag = "" if site["enabled"] else "  (disabled)"
            write(f"Site {site['site']} — {site['name']}{flag}")
            if site["reading_problem"]:
                write(f"  NOT READ AS CALLS: {site['reading_problem']}")
            if site["silent"]:
                write(f"  SILENT for {site['silent_hours']:g} h of business hours "
                      f"(alarm after {site['silent_after_hours']} h, {site['business_hours']})")
            for conn in site["connections"]:
                line = f"  connection #{conn['id']} {conn['kind']}: {conn['state']}"
                if conn["detail"]:
                    line += f" ({conn['detail']})"
                if not conn["enabled"]:
                    line += " [disabled]"
                write(line)
                if conn["last_error"]:
                    write(f"    last error: {conn['last_error'].splitlines()[-1][:200]}")
            if not site["connections"]:
                write("  no connections (records arrive by `calltally import` only)")
            last = site["last_record_received"]
            write(f"  last record received: {last:%Y-%m-%d %H:%M:%S} UTC" if last else "  last record received: never")
            discarded = ", ".join(f"{reason} {n}" for reason, n in sorted(site["discarded_today"].items())) or "none"
            write(f"  today since 00:00 {site['timezone']}: {site['records_today']} records received, "
                  f"{site['calls_today']} calls, discarded: {discarded}")
            if site["backlog_bytes_today"]:
                write(f"  not mined yet: {size_text(site['backlog_bytes_today'])}")
            write(f"  unknown extensions: {site['unknown_extensions']}   spool: {size_text(site['spool_bytes'])}")
        write("")
        for line in table(status["services"]):
            write(line)
        if not control.supervisor_running():
            write("(no `calltally up` is running: services run alone, e.g. under systemd)")

    def set_silence(self, options) -> None:
        code, hours_text = options["set_silence"]
        site = get_site(code)
        try:
            hours = int(hours_text)
        except ValueError:
            raise CommandError(f"HOURS {hours_text!r} must be a whole number (0 turns the alarm off)") from None
        if not 0 <= hours <= 1000:
            raise CommandError("HOURS must be between 0 and 1000")
        monitoring, _ = SiteMonitoring.objects.get_or_create(site=site)
        monitoring.silent_after_hours = hours
        if options["days"]:
            monitoring.business_days = parse_days(options["days"])
        if options["business_start"]:
            monitoring.business_start = parse_time(options["business_start"], "--from")
        if options["business_end"]:
            monitoring.business_end = parse_time(options["business_end"], "--to")
        full_clean_or_error(monitoring)
        monitoring.save()
        if hours:
            self.stdout.write(
                f"{site.code}: silent after {hours} h without records on {monitoring.days_text}, "
                f"{monitoring.business_start:%H:%M}-{monitoring.business_end:%H:%M} ({site.timezone})")
        else:
            self.stdout.write(f"{site.code}: silent-site alarm off")
