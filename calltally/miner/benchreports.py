"""`calltally bench reports`: a database of synthetic calls, and how fast it answers.

The calls are made straight as rows (not parsed from records: ten million
records would take the Miner an hour here), a year of them ending now, over
four sites in four time zones, with a directory (people, extensions, a cost
center tree), destinations, categories, accounts and tariffs. The rollups are
kept by the same :class:`calltally.calls.rollups.Tally` the Miner uses. Rows
go in with COPY on PostgreSQL and in large executemany transactions on SQLite.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction

from calltally import db
from calltally.calls import rollups
from calltally.calls.models import Call, CallRollup
from calltally.directory.models import CostCenter, Extension, Person
from calltally.sites.models import Site
from calltally.vocabulary import CALL

from .store import CALL_COLUMNS, ROLLUP_OF_ROW

SITES = (("ROM", "Europe/Rome", "IT", "EUR"), ("NYC", "America/New_York", "US", "USD"),
         ("BLR", "Asia/Kolkata", "IN", "INR"), ("SYD", "Australia/Sydney", "AU", "AUD"))
EXTENSIONS_PER_SITE = 600
PEOPLE_SHARE = 0.85  # of extensions with a person; the rest are shared phones
DESTINATIONS = [("local", "Local"), ("national", "National"), ("mobile", "Mobile")] + [
    ("international", name) for name in (
        "France", "Germany", "Spain", "United Kingdom", "Switzerland", "Austria", "Belgium", "Netherlands",
        "Poland", "Romania", "Greece", "Portugal", "Sweden", "Norway", "Denmark", "Ireland", "United States",
        "Canada", "Mexico", "Brazil", "Argentina", "China", "Japan", "India", "Singapore", "Australia",
        "South Africa", "Egypt", "Morocco", "Turkey", "Israel", "United Arab Emirates", "Russia", "Ukraine")
] + [("toll_free", "Toll free")]
ACCOUNTS = [""] * 20 + [f"PRJ-{n:03d}" for n in range(60)]
# Calls made one by one; more are copied by the database (see build()).
BASE = 500_000
DIRECTIONS = ("outbound",) * 5 + ("inbound",) * 4 + ("internal",)
# Price by billed minute (index), national and international.
PRICES = tuple(tuple((Decimal(minutes * 60) * Decimal("0.0012") * factor).quantize(Decimal("0.0001"))
                     for minutes in range(2000)) for factor in (1, 10))


def build(calls: int, seed: int = 13, log: Callable[[str], None] = print, base: int = BASE) -> dict:
    """Fill an empty database with ``calls`` synthetic calls and their rollups; returns what was made.

    Beyond ``base`` calls, the rest are copies of the first made by the database itself (each
    copy a few minutes later than its original), and the rollups are then rebuilt from the
    calls: Python makes about 10,000 calls a second on this machine, the database a million."""
    made = min(calls, base)
    began = time.monotonic()
    result = generate(made, seed, log, keep_rollups=made == calls)
    if made < calls:
        copy(made, calls, log)
        for site in Site.objects.order_by("code"):
            log(f"  rebuilding {site.code}'s rollups ({time.monotonic() - began:.0f} s)")
            rollups.rebuild(site)
        result["calls"] = Call.rows.count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    result["build_seconds"] = round(time.monotonic() - began, 1)
    return result


def copy(made: int, calls: int, log: Callable[[str], None]) -> None:
    """Copies of the first ``made`` calls, each round 7 minutes later, up to ``calls`` calls."""
    columns = [c for c in db.columns_of(Call)]
    quoted = db.quoted(columns)
    table = db.table(Call)
    low = Call.rows.order_by("pk").values_list("pk", flat=True).first()
    done, round_ = made, 1
    while done < calls:
        take = min(made, calls - done)
        shifted = (f"datetime(start, '+{7 * round_} minutes')" if connection.vendor == "sqlite"
                   else f"start + interval '{7 * round_} minutes'")
        chosen = ", ".join(shifted if c == "start" else connection.ops.quote_name(c) for c in columns)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT {chosen} FROM {table} "
                           f"WHERE id >= %s AND id < %s", [low, low + take])
        done += take
        round_ += 1
        log(f"  {done:,} calls (copies)")


def generate(calls: int, seed: int, log: Callable[[str], None], keep_rollups: bool) -> dict:
    """``calls`` synthetic calls made one by one, a year of them ending now."""
    rnd = random.Random(seed)
    began = time.monotonic()
    sites, extensions = directory(rnd)
    log(f"directory: {len(sites)} sites, {len(extensions)} extensions, {Person.objects.count()} people, "
        f"{CostCenter.objects.count()} cost centers")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = now - dt.timedelta(days=366)
    per_day = calls / 365
    adapt = db.instant_adapter()
    sqlite = connection.vendor == "sqlite"
    tariffs = {site.pk: [f"{site.code} carrier A 2026", f"{site.code} carrier B 2026"] for site in sites}
    # Three trunks per site (a primary, a backup, a SIP line), the first taking most calls.
    trunks = {site.pk: [f"SIP/{site.code.lower()}-trunk{n}" for n in (1, 1, 1, 1, 2, 2, 3)] for site in sites}
    currency = {site.pk: site.currency for site in sites}
    remotes = [f"+{rnd.randint(10**9, 10**11)}" for _ in range(50_000)]
    written, day = 0, 0
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    insert = db.insert_sql(Call, CALL_COLUMNS)
    # Every column at its default (blank text, zero), the rest set per call below.
    template = {f.attname: f.get_default() for f in Call._meta.concrete_fields if f.attname in CALL_COLUMNS}
    at = {name: CALL_COLUMNS.index(name) for name in CALL_COLUMNS}
    base = [template[c] for c in CALL_COLUMNS]
    base[at["kind"]] = CALL
    fixed = {site.pk: (site.pk, currency[site.pk]) for site in sites}
    step = (at["site_id"], at["currency"])
    tally = rollups.Tally()
    while written < calls:
        # Weekdays carry most of the traffic; the last day takes what rounding left.
        moment = first + dt.timedelta(days=day)
        weight = 1.25 if moment.weekday() < 5 else 0.375
        count = min(calls - written, max(1, round(per_day * weight))) if day < 365 else calls - written
        seconds = sorted(rnd.randrange(86400) for _ in range(count))
        rows = []
        for second in seconds:
            site, ext_id, number, person_id, center_id = extensions[rnd.randrange(len(extensions))]
            direction = DIRECTIONS[rnd.randrange(10)]
            answered = rnd.random() < (0.8 if direction != "outbound" else 0.9)
            talk = int(rnd.expovariate(1 / 150)) if answered else 0
            row = base.copy()
            row[step[0]], row[step[1]] = fixed[site.pk]
            row[at["start"]] = moment + dt.timedelta(seconds=second)
            row[at["direction"]] = direction
            row[at["answered"]] = answered
            row[at["disposition"]] = "answered" if answered else "no_answer"
            row[at["ring_seconds"]] = rnd.randrange(3, 30)
            row[at["talk_seconds"]] = talk
            row[at["extension_number"]] = number
            row[at["extension_id"]] = ext_id
            row[at["person_id"]] = person_id
            row[at["cost_center_id"]] = center_id
            row[at["remote_number"]] = remote = remotes[rnd.randrange(len(remotes))]
            phone, trunk = f"SIP/{number}", trunks[site.pk][rnd.randrange(7)]
            row[at["orig_device"]], row[at["dest_device"]] = (
                (phone, trunk) if direction == "outbound" else (trunk, phone) if direction == "inbound"
                else (phone, f"SIP/{extensions[rnd.randrange(len(extensions))][2]}"))
            if direction == "outbound":
                category, destination = DESTINATIONS[min(int(rnd.expovariate(0.25)), len(DESTINATIONS) - 1)]
                billed = -(-talk // 60) * 60
                row[at["category"]] = category
                row[at["destination"]] = destination
                row[at["billed_seconds"]] = billed
                row[at["tariff"]] = tariffs[site.pk][rnd.randrange(2)]
                row[at["account"]] = ACCOUNTS[rnd.randrange(80)]
                row[at["cost"]] = PRICES[category == "international"][billed // 60]
                row[at["e164"]] = remote
            rows.append(row)
        if keep_rollups:
            tally.add(map(ROLLUP_OF_ROW, rows))
        start_at = at["start"]
        for row in rows:
            row[start_at] = adapt(row[start_at])
        with transaction.atomic(), connection.cursor() as cursor:
            db.insert_rows(cursor, Call, CALL_COLUMNS, rows, insert)
            written += count
            # Ten days of sums per upsert: the month rows are written a third as often as daily.
            if keep_rollups and (day % 10 == 9 or written >= calls):
                tally.flush()
        day += 1
        if day % 30 == 0:
            log(f"  {written:,} calls ({time.monotonic() - began:.0f} s)")
    return {"calls": written}


def directory(rnd: random.Random) -> tuple[list[Site], list[tuple]]:
    """Sites, a cost center tree (5 divisions × 6 departments × 4 teams), people and extensions."""
    sites = [Site.objects.create(code=code, name=f"Office {code}", timezone=zone, country=country, currency=money,
                                 driver="asterisk_csv", access_codes=["0"]) for code, zone, country, money in SITES]
    teams = []
    for d in range(5):
        division = CostCenter.objects.create(code=f"D{d}", name=f"Division {d}")
        for p in range(6):
            department = CostCenter.objects.create(code=f"D{d}P{p}", name=f"Department {d}.{p}", parent=division)
            for t in range(4):
                teams.append(CostCenter.objects.create(code=f"D{d}P{p}T{t}", name=f"Team {d}.{p}.{t}",
                                                       parent=department))
    extensions = []
    for site in sites:
        for n in range(EXTENSIONS_PER_SITE):
            team = teams[rnd.randrange(len(teams))]
            person = None
            if rnd.random() < PEOPLE_SHARE:
                person = Person.objects.create(username=f"{site.code.lower()}{n:04d}", first_name=f"P{n}",
                                               last_name=site.code, site=site, cost_center=team)
            ext = Extension.objects.create(site=site, number=str(2000 + n), person=person, cost_center=team)
            extensions.append((site, ext.pk, ext.number, person.pk if person else None, team.pk))
    return sites, extensions


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # the first run warms caches; the figures are of a running server
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1)


def database_size() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
        cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        return cursor.fetchone()[0]


def table_sizes() -> dict[str, int]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN (%s, %s)",
                       [Call._meta.db_table, CallRollup._meta.db_table])
        return dict(cursor.fetchall())
