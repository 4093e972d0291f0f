"""`calltally rate`: what one call would cost, step by step (the cost simulator)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.numbering import NumberingPlan, normalize
from calltally.rating.services import rater_for_site
from calltally.sites.services import get_site
from calltally.vocabulary import DIRECTIONS, INTERNAL, OUTBOUND


class Command(BaseCommand):
    help = ("Price one call the way the Miner would, and show every step: the number normalized, the plan and "
            "version, the matched prefix, the band, the billed seconds and the cost formula.")

    def add_arguments(self, parser):
        parser.add_argument("number", metavar="NUMBER", help="as the PBX records it, e.g. 00223456789")
        parser.add_argument("--site", required=True, metavar="CODE")
        parser.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="when the call starts, in the site's time "
                            "zone (default: now)")
        parser.add_argument("--talk", type=int, default=60, metavar="SECONDS", help="talk time (default 60)")
        parser.add_argument("--direction", choices=DIRECTIONS,
                            help="default: internal for an extension, otherwise outbound")
        parser.add_argument("--device", default="", help="trunk/device (dest_device of an outbound call), which "
                            "selects a route plan")
        parser.add_argument("--unanswered", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        site = get_site(options["site"])
        if options["talk"] < 0:
            raise CommandError("--talk cannot be negative")
        start = local_start(options["at"], site.zone)
        plan = NumberingPlan(country=site.country, area_code=site.area_code,
                             access_codes=tuple(site.access_codes or ()), internal=site.extension_matcher())
        direction = options["direction"]
        number = normalize(options["number"], plan, outbound=direction != "inbound")
        if direction is None:
            direction = INTERNAL if number.category == "internal" else OUTBOUND
        rating = rater_for_site(site).rate(
            e164=number.e164, direction=direction, start=start.astimezone(dt.UTC), talk_seconds=options["talk"],
            answered=not options["unanswered"], device=options["device"], category=number.category,
            explain=True,
        )
        category = rating.category or number.category
        destination = rating.destination or number.destination
        result = {
            "site": site.code, "number": options["number"], "e164": number.e164, "category": category,
            "destination": destination, "direction": direction,
            "start": start.isoformat(), "talk_seconds": options["talk"], "answered": not options["unanswered"],
            "device": options["device"], "tariff": rating.tariff, "prefix": rating.prefix, "band": rating.band,
            "billed_seconds": rating.billed_seconds, "cost": str(rating.cost), "currency": rating.currency,
            "unrated": rating.unrated, "steps": rating.steps,
        }
        if options["json"]:
            print_json(result, self.stdout)
            return
        numbering = f"{number.e164 or 'no E.164 form'} ({category}"
        numbering += f", {destination})" if destination else ")"
        rows = [
            ("number", f"{options['number']} → {numbering}"),
            ("call", f"{direction}, {start:%a %Y-%m-%d %H:%M:%S} {site.zone}, talk {options['talk']} s"
                     + (", not answered" if options["unanswered"] else "")),
            ("plan", rating.tariff or "none"),
            ("prefix", f"{rating.prefix or '*'} → {rating.destination or '-'}" if rating.tariff and not rating.unrated
             else ("none matches" if rating.tariff else "-")),
            ("band", rating.band or "-"),
            ("billed", f"{rating.billed_seconds} s"),
            ("cost", f"{rating.cost} {rating.currency}" + ("  (UNRATED: no rate for this call)" if rating.unrated
                                                          else "")),
        ]
        for label, value in rows:
            self.stdout.write(f"{label:<8} {value}")
        self.stdout.write("steps")
        for index, step in enumerate(rating.steps or [], 1):
            self.stdout.write(f"  {index:>2}. {step}")


def local_start(text: str | None, zone) -> dt.datetime:
    """--at as an aware datetime: a local time of the site (an explicit offset is kept)."""
    if not text:
        return dt.datetime.now(zone).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--at {text!r} is not a time; use 'YYYY-MM-DD HH:MM' in the site's time zone") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value
