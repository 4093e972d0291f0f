"""`calltally tariff load|export|rates-import|rates-export|list|assign|unassign|compare|unrated|delete|holiday-add|
holiday-remove|holidays`."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Max, Min, Sum

from calltally.calls.models import Call
from calltally.calls.services import calls_between
from calltally.cliutil import parse_date, print_json
from calltally.rating import services
from calltally.rating.models import Holiday, PlanAssignment, Rate, TariffPlan
from calltally.rating.planfile import PlanFileError, parse_plan, render_plan, render_rates_csv
from calltally.sites.models import Site
from calltally.sites.services import get_site

ACTIONS = ("load", "export", "rates-import", "rates-export", "list", "assign", "unassign", "compare", "unrated",
           "delete", "holiday-add", "holiday-remove", "holidays")


class Command(BaseCommand):
    help = "Tariff plans: load and export them, assign them to sites, compare them, list unrated calls."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="|".join(ACTIONS[:9]) + "|…")

        load = sub.add_parser("load", help="create or replace a plan version from a TOML file")
        load.add_argument("file", metavar="FILE.toml")
        load.add_argument("--check", action="store_true", help="only check the file; store nothing")

        export = sub.add_parser("export", help="write a plan version as TOML")
        export.add_argument("name", metavar="NAME")
        export.add_argument("--valid-from", metavar="DATE", help="the version starting that day (default: latest)")
        export.add_argument("--output", metavar="FILE", help="default: standard output")

        rates_in = sub.add_parser("rates-import", help="replace a plan version's rates with a CSV rate deck")
        rates_in.add_argument("name", metavar="NAME")
        rates_in.add_argument("file", metavar="FILE.csv")
        rates_in.add_argument("--valid-from", metavar="DATE",
                              help="the version starting that day; created (with the bands of the version before "
                                   "it) if there is none. Default: the latest version")

        rates_out = sub.add_parser("rates-export", help="write a plan version's rates as a CSV rate deck")
        rates_out.add_argument("name", metavar="NAME")
        rates_out.add_argument("--valid-from", metavar="DATE", help="default: the latest version")
        rates_out.add_argument("--output", metavar="FILE", help="default: standard output")

        listing = sub.add_parser("list", help="list the plans, their versions and where they are used")
        listing.add_argument("--json", action="store_true")

        assign = sub.add_parser("assign", help="make a plan a site's default, or the plan of matching trunks")
        assign.add_argument("name", metavar="NAME")
        assign.add_argument("--site", required=True, metavar="CODE")
        assign.add_argument("--pattern", default="", metavar="REGEX",
                            help="only calls whose trunk/device matches (dest_device for outbound calls)")
        assign.add_argument("--priority", type=int, default=0, help="patterns are tried highest first (default 0)")

        unassign = sub.add_parser("unassign", help="remove a site's default plan or a pattern's plan")
        unassign.add_argument("--site", required=True, metavar="CODE")
        unassign.add_argument("--pattern", default="", metavar="REGEX")

        compare = sub.add_parser("compare", help="what a period's calls would cost under other plans")
        compare.add_argument("plans", nargs="+", metavar="PLAN")
        compare.add_argument("--from", dest="first", required=True, metavar="DATE")
        compare.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day (included)")
        compare.add_argument("--site", metavar="CODE", help="default: every site")
        compare.add_argument("--json", action="store_true")

        unrated = sub.add_parser("unrated", help="numbers of unrated calls, to complete the tariffs")
        unrated.add_argument("--site", metavar="CODE")
        unrated.add_argument("--from", dest="first", metavar="DATE")
        unrated.add_argument("--to", dest="last", metavar="DATE")
        unrated.add_argument("--limit", type=int, default=50, help="numbers to show (default 50)")
        unrated.add_argument("--json", action="store_true")

        delete = sub.add_parser("delete", help="delete a plan version, or a whole plan")
        delete.add_argument("name", metavar="NAME")
        delete.add_argument("--valid-from", metavar="DATE", help="only the version starting that day")

        holiday_add = sub.add_parser("holiday-add", help="add a day priced in the holiday band")
        holiday_add.add_argument("date", metavar="DATE")
        holiday_add.add_argument("--name", default="")
        where = holiday_add.add_mutually_exclusive_group()
        where.add_argument("--country", metavar="CC", help="only the sites of this country")
        where.add_argument("--site", metavar="CODE", help="only this site")

        holiday_remove = sub.add_parser("holiday-remove", help="remove added holidays on a day")
        holiday_remove.add_argument("date", metavar="DATE")
        where = holiday_remove.add_mutually_exclusive_group()
        where.add_argument("--country", metavar="CC")
        where.add_argument("--site", metavar="CODE")

        holidays = sub.add_parser("holidays", help="a site's holidays in a year: public ones and those added")
        holidays.add_argument("--site", required=True, metavar="CODE")
        holidays.add_argument("--year", type=int, default=None, help="default: this year")
        holidays.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        handler = getattr(self, "do_" + options["action"].replace("-", "_"))
        try:
            handler(options)
        except PlanFileError as exc:
            raise CommandError(f"{exc}\nNothing was changed.") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    # --- files ------------------------------------------------------------------------------------
    def do_load(self, options):
        path = Path(options["file"])
        spec = parse_plan(read_text(path), source=str(path))
        summary = (f"{spec.currency}, {len(spec.windows)} band window{'s' if len(spec.windows) != 1 else ''}, "
                   f"bands {', '.join(spec.band_names)}, {len({r.prefix for r in spec.rates})} prefixes")
        if options["check"]:
            self.stdout.write(f"{path}: plan {spec.name} from {spec.valid_from} is valid ({summary})")
            return
        version, created = services.store_plan(spec, source=path.name)
        self.stdout.write(f"plan {spec.name}: version from {spec.valid_from} {'created' if created else 'replaced'} "
                          f"({summary})")

    def do_export(self, options):
        version = self.version(options)
        with output(options["output"], self.stdout) as stream:
            stream.write(render_plan(services.plan_spec(version)))
        if options["output"]:
            self.stdout.write(f"plan {version.label} written to {options['output']}")

    def do_rates_import(self, options):
        path = Path(options["file"])
        valid_from = parse_date(options["valid_from"], "--valid-from") if options["valid_from"] else None
        try:
            with open(path, encoding="utf-8-sig", newline="") as stream:
                version, count, created = services.import_rates(options["name"], stream, valid_from, source=str(path))
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        self.stdout.write(f"plan {version.label}: {count} rates stored"
                          + (" in a new version (bands and settings of the version before it)" if created else ""))

    def do_rates_export(self, options):
        version = self.version(options)
        rows = services.version_rows(version)
        with output(options["output"], self.stdout) as stream:
            render_rates_csv(rows, services.version_band_names(version), stream)
        if options["output"]:
            self.stdout.write(f"{len(rows)} rates of {version.label} written to {options['output']}")

    def version(self, options):
        plan = services.get_plan(options["name"])
        valid_from = parse_date(options["valid_from"], "--valid-from") if options.get("valid_from") else None
        return services.pick_version(plan, valid_from)

    # --- plans and sites -------------------------------------------------------------------------------
    def do_list(self, options):
        plans = list(TariffPlan.objects.select_related("carrier").prefetch_related("versions__bands")
                     .annotate(uses=Count("assignments")))
        counts = dict(
            Rate.objects.order_by().values("version_id").annotate(n=Count("prefix", distinct=True))
            .values_list("version_id", "n")
        )
        assignments = list(PlanAssignment.objects.select_related("site", "plan").order_by("site__code", "-priority"))
        data = []
        for plan in plans:
            data.append({
                "name": plan.name,
                "carrier": plan.carrier.name,
                "versions": [
                    {"valid_from": v.valid_from.isoformat(), "valid_to": v.valid_to.isoformat() if v.valid_to else "",
                     "currency": v.currency, "prefixes": counts.get(v.pk, 0), "directions": v.directions,
                     "bands": services.band_names(services.windows_of(v), v.default_band, v.holiday_band),
                     "source": v.source}
                    for v in sorted(plan.versions.all(), key=lambda v: v.valid_from)
                ],
                "sites": [
                    {"site": a.site.code, "pattern": a.pattern, "priority": a.priority}
                    for a in assignments if a.plan_id == plan.pk
                ],
            })
        if options["json"]:
            print_json(data, self.stdout)
            return
        if not data:
            self.stdout.write("no tariff plans yet; load one with `calltally tariff load FILE.toml`")
            return
        for plan in data:
            self.stdout.write(f"{plan['name']}  (carrier {plan['carrier']})")
            for v in plan["versions"]:
                until = f" to {v['valid_to']}" if v["valid_to"] else ""
                self.stdout.write(f"  from {v['valid_from']}{until}  {v['currency']}  {v['prefixes']:>8,} prefixes  "
                                  f"bands {', '.join(v['bands'])}  rates {', '.join(v['directions'])} calls")
            for use in plan["sites"]:
                how = f"calls on devices matching /{use['pattern']}/ (priority {use['priority']})" \
                    if use["pattern"] else "default plan"
                self.stdout.write(f"  site {use['site']}: {how}")
            if not plan["sites"]:
                self.stdout.write("  not assigned to any site")

    def do_assign(self, options):
        site = get_site(options["site"])
        assignment = services.assign_plan(site, options["name"], options["pattern"], options["priority"])
        if assignment.pattern:
            self.stdout.write(f"site {site.code}: calls on devices matching /{assignment.pattern}/ are priced with "
                              f"{assignment.plan.name} (priority {assignment.priority})")
        else:
            self.stdout.write(f"site {site.code}: default plan {assignment.plan.name}")

    def do_unassign(self, options):
        site = get_site(options["site"])
        what = f"the plan for /{options['pattern']}/" if options["pattern"] else "the default plan"
        if not services.unassign_plan(site, options["pattern"]):
            raise CommandError(f"site {site.code} has no {what.removeprefix('the ')}")
        self.stdout.write(f"site {site.code}: {what} removed")

    def do_delete(self, options):
        plan = services.get_plan(options["name"])
        if options["valid_from"]:
            version = services.pick_version(plan, parse_date(options["valid_from"], "--valid-from"))
            version.delete()
            self.stdout.write(f"version {version.label} deleted")
            return
        services.delete_plan(plan)
        self.stdout.write(f"plan {plan.name} deleted")

    # --- reports -----------------------------------------------------------------------------------------
    def do_compare(self, options):
        from calltally.rating.comparison import compare

        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        first, last = parse_date(options["first"], "--from"), parse_date(options["last"], "--to")
        if last < first:
            raise CommandError("--to is before --from")
        result = compare(sites, first, last, options["plans"])
        if options["json"]:
            print_json(result.as_dict(), self.stdout)
            return
        self.stdout.write(f"calls from {first} to {last}, "
                          f"{'site ' + sites[0].code if options['site'] else 'every site'}: "
                          f"{result.total.calls:,} calls; actual costs in {result.actual_currency or '-'}; "
                          "saving = actual − plan")
        widths = [max(12, len(name)) for name in result.plans]
        head = f"{'CATEGORY':<14} {'DESTINATION':<32} {'CALLS':>8} {'ACTUAL':>12}"
        for name, width in zip(result.plans, widths, strict=True):
            head += f" {name:>{width}} {'SAVING':>12}"
        self.stdout.write(head)
        for line in [*result.lines, result.total]:
            label = ("TOTAL", "") if line is result.total else (line.category or "-", (line.destination or "-")[:32])
            text = f"{label[0]:<14} {label[1]:<32} {line.calls:>8,} {line.actual:>12}"
            for cost, saving, unrated, width in zip(line.costs, line.savings, line.unrated, widths, strict=True):
                text += f" {str(cost) + ('*' if unrated else ''):>{width}} {saving:>12}"
            self.stdout.write(text)
        for name, currency, unrated in zip(result.plans, result.currencies, result.total.unrated, strict=True):
            note = f"; * {unrated:,} answered calls it has no rate for, counted at 0" if unrated else ""
            self.stdout.write(f"{name}: costs in {currency or '-'}{note}")

    def do_unrated(self, options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        first = parse_date(options["first"], "--from") if options["first"] else None
        last = parse_date(options["last"], "--to") if options["last"] else None
        calls = calls_between(sites, first, last) if (first or last) else Call.objects.filter(site__in=sites)
        rows = list(
            calls.filter(unrated=True).order_by().values("site__code", "e164", "category", "tariff")
            .annotate(calls=Count("id"), talk=Sum("talk_seconds"), first=Min("start"), last=Max("start"))
            .order_by("-calls", "e164")[: options["limit"]]
        )
        data = [{"site": r["site__code"], "e164": r["e164"], "category": r["category"], "tariff": r["tariff"],
                 "calls": r["calls"], "talk_seconds": r["talk"] or 0, "first": r["first"], "last": r["last"]}
                for r in rows]
        if options["json"]:
            print_json(data, self.stdout)
            return
        if not data:
            self.stdout.write("no unrated calls")
            return
        self.stdout.write(f"{'SITE':<10} {'NUMBER':<18} {'CATEGORY':<14} {'CALLS':>7} {'TALK s':>9}  TARIFF")
        for r in data:
            self.stdout.write(f"{r['site']:<10} {r['e164'] or '(no E.164)':<18} {r['category'] or '-':<14} "
                              f"{r['calls']:>7,} {r['talk_seconds']:>9,}  {r['tariff'] or '(no plan)'}")
        self.stdout.write("add the missing prefixes to the plans (`calltally tariff load`/`rates-import`), "
                          "then recalculate the calls")

    # --- holidays ------------------------------------------------------------------------------------------
    def do_holiday_add(self, options):
        day = parse_date(options["date"], "DATE")
        site = get_site(options["site"]) if options["site"] else None
        country = options["country"] or ""
        services.add_holiday(day, options["name"], country, site)
        self.stdout.write(f"{day} is a holiday for {services.holiday_scope(site, country)}")

    def do_holiday_remove(self, options):
        day = parse_date(options["date"], "DATE")
        holidays = Holiday.objects.filter(date=day)
        if options["site"]:
            holidays = holidays.filter(site=get_site(options["site"]))
        elif options["country"]:
            holidays = holidays.filter(site__isnull=True, country=options["country"].upper())
        else:
            holidays = holidays.filter(site__isnull=True, country="")
        removed = holidays.delete()[0]
        if not removed:
            raise CommandError(f"no added holiday on {day} for that scope (`calltally tariff holidays` lists them)")
        self.stdout.write(f"{removed} holiday{'s' if removed > 1 else ''} on {day} removed")

    def do_holidays(self, options):
        site = get_site(options["site"])
        year = options["year"] or dt.datetime.now(site.zone).year
        days = [{**item, "date": item["date"].isoformat()} for item in services.site_holidays(site, year)]
        if options["json"]:
            print_json(days, self.stdout)
            return
        self.stdout.write(f"holidays of site {site.code} ({site.country}) in {year}; plans with a holiday band price "
                          "them in it (public ones unless the plan sets public_holidays = false)")
        for item in days:
            self.stdout.write(f"{item['date']}  {item['source']:<7} {item['name']}")


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


@contextmanager
def output(path: str | None, stdout):
    """A file to write (replaced only once complete) or the command's standard output."""
    if not path:
        stdout.ending = ""
        try:
            yield stdout
        finally:
            stdout.ending = "\n"
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as stream:
            yield stream
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

