"""Rating benchmarks: rate-deck loading, SiteRater.rate and tariff comparison.

Runs standalone on a throwaway data dir with its own SQLite database (CALLTALLY_* settings of the
environment are ignored, so it never touches real data), removed at the end unless --keep:

    .venv/bin/python benchmarks/rating.py [--deck 200000] [--calls 500000] [--plan 50000] [--rate-calls 1000000]

Prints:
* the load time of a CSV rate deck of --deck prefixes (one row per prefix), and of the same
  prefixes with one row per band (twice the rows);
* SiteRater.rate calls/s (the Miner's path), after rater_for_site;
* tariff comparison over --calls synthetic stored calls with a --plan-prefix plan: the whole
  `compare()` (one streamed query + pricing), then "fetch rows" and "price rows" apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ("prefix,destination,category,band,rate_per_minute,connection_fee,first_increment,next_increment,"
          "minimum_duration,minimum_charge,maximum_charge\n")
PLAN = """name = "{name}"
carrier = "Bench carrier"
currency = "EUR"
valid_from = "2026-01-01"
default_band = "offpeak"
holiday_band = "offpeak"
directions = ["outbound"]

[[bands]]
name = "peak"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "19:00"
"""
COUNTRIES = ["1", "33", "34", "39", "41", "44", "49", "31", "32", "43", "45", "46", "47", "48", "351", "352", "353",
             "354", "355", "356", "357", "358", "359", "370", "371", "372", "380", "381", "385", "386", "420", "421"]


def prefixes(count: int, seed: int) -> list[str]:
    """``count`` distinct prefixes of 4 to 9 digits under real country codes."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        country = rng.choice(COUNTRIES)
        digits = rng.randint(2, 7)
        found.add(country + str(rng.randrange(10 ** (digits - 1), 10 ** digits)))
    return sorted(found)


def deck(prefix_list: list[str], per_band: bool, seed: int) -> str:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write(HEADER)
    for prefix in prefix_list:
        dest = f"Destination {prefix[:3]}"
        rate = f"0.{rng.randrange(50, 3000):04d}"
        if per_band:
            out.write(f"{prefix},{dest},,peak,{rate},0.0500,30,6,0,0,\n")
            out.write(f"{prefix},{dest},,offpeak,0.{rng.randrange(20, 1500):04d},0.0500,30,6,0,0,\n")
        else:
            out.write(f"{prefix},{dest},,,{rate},0.0500,30,6,0,0,\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=int, default=200_000, help="prefixes in the loaded deck")
    parser.add_argument("--calls", type=int, default=500_000, help="stored calls to compare")
    parser.add_argument("--plan", type=int, default=50_000, help="prefixes of the compared plans")
    parser.add_argument("--rate-calls", type=int, default=1_000_000, help="SiteRater.rate calls")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="calltally-rating-bench-")
    for name in [name for name in os.environ if name.startswith("CALLTALLY_")]:
        del os.environ[name]
    os.environ["CALLTALLY_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltally.settings")
    import django

    django.setup()
    from calltally.cli import ensure_migrated

    ensure_migrated()
    from django.conf import settings

    print(f"data dir {folder} ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
    bench_deck(args.deck, Path(folder))
    site = make_site()
    plan_prefixes = prefixes(args.plan, seed=2)
    bench_rate(site, plan_prefixes, args.rate_calls)
    bench_compare(site, plan_prefixes, args.calls)
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def make_site():
    from calltally.sites.models import Site

    return Site.objects.create(code="BENCH", name="Benchmark", country="IT", area_code="02", timezone="Europe/Rome",
                               currency="EUR", driver="asterisk_csv", access_codes=["0"], internal_digits_min=4,
                               internal_digits_max=4)


def load_plan(name: str, deck_text: str) -> None:
    from calltally.rating import services
    from calltally.rating.planfile import parse_plan

    services.store_plan(parse_plan(PLAN.format(name=name)))
    services.import_rates(name, io.StringIO(deck_text))


def bench_deck(count: int, folder: Path) -> None:
    from calltally.rating import services
    from calltally.rating.planfile import parse_plan

    prefix_list = prefixes(count, seed=1)
    for per_band in (False, True):
        name = f"Deck {count} {'per band' if per_band else 'all bands'}"
        path = folder / "deck.csv"
        path.write_text(deck(prefix_list, per_band, seed=1), encoding="utf-8")
        services.store_plan(parse_plan(PLAN.format(name=name)))
        started = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as stream:
            _, stored, _ = services.import_rates(name, stream, source=str(path))
        seconds = time.perf_counter() - started
        rows = count * (2 if per_band else 1)
        print(f"deck load        {count:>9,} prefixes, {rows:>9,} rows ({'one per band' if per_band else 'all bands'}):"
              f" {seconds:6.2f} s  ({rows / seconds:,.0f} rows/s; {stored:,} rates stored)")
        # Loading it again replaces it (one DELETE, then the inserts).
        started = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as stream:
            services.import_rates(name, stream, source=str(path))
        print(f"deck reload      replacing the same deck: {time.perf_counter() - started:6.2f} s")


def synthetic_numbers(prefix_list: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        prefix = rng.choice(prefix_list)
        numbers.append("+" + prefix + str(rng.randrange(10 ** (11 - min(len(prefix), 9)))))
    return numbers


def bench_rate(site, plan_prefixes: list[str], count: int) -> None:
    from calltally.rating import services

    load_plan("Rate plan", deck(plan_prefixes, per_band=True, seed=3))
    load_plan("Route plan", deck(plan_prefixes[: len(plan_prefixes) // 5], per_band=False, seed=4))
    services.assign_plan(site, "Rate plan")
    services.assign_plan(site, "Route plan", pattern=r"^SIP/carrier-b", priority=1)
    services._LOADED.clear()
    started = time.perf_counter()
    rater = services.rater_for_site(site)
    load_seconds = time.perf_counter() - started

    rng = random.Random(5)
    numbers = synthetic_numbers(plan_prefixes, 20_000, seed=6)
    devices = ["SIP/carrier-a-0001", "SIP/carrier-a-0002", "SIP/carrier-b-0001", ""]
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    calls = [
        (rng.choice(numbers), base + dt.timedelta(seconds=rng.randrange(31 * 86400)), int(rng.expovariate(1 / 150)),
         rng.random() < 0.85, rng.choice(devices))
        for _ in range(min(count, 200_000))
    ]
    rate = rater.rate
    print(f"rater_for_site   {len(plan_prefixes):,}-prefix plan per band + {len(plan_prefixes) // 5:,}-prefix route "
          f"plan: {load_seconds:6.2f} s")
    # The first pass fills the caches (prefix per number, cost per talk); the Miner, running for
    # months, is mostly in the second situation. Each pass is timed on its own.
    passes = max(1, count // len(calls))
    for index in range(passes):
        started = time.perf_counter()
        for e164, start, talk, answered, device in calls:
            rate(e164=e164, direction="outbound", start=start, talk_seconds=talk, answered=answered, device=device)
        seconds = time.perf_counter() - started
        label = "first pass, cold caches" if index == 0 else f"pass {index + 1}"
        print(f"SiteRater.rate   {len(calls):>9,} calls ({label}): {seconds:6.2f} s  "
              f"({len(calls) / seconds:,.0f} calls/s)")


def bench_compare(site, plan_prefixes: list[str], count: int) -> None:
    from django.db import connection, transaction

    from calltally import db
    from calltally.calls.models import Call
    from calltally.rating import services
    from calltally.rating.comparison import compare, fetch_rows, plans_at, price_rows
    from calltally.spool.models import SpoolSegment

    load_plan("Compare A", deck(plan_prefixes, per_band=True, seed=7))
    load_plan("Compare B", deck(plan_prefixes, per_band=False, seed=8))

    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    segments = {}
    for offset in range(31):
        day = first + dt.timedelta(days=offset)
        segments[day] = SpoolSegment.objects.create(site=site, day=day).pk
    rng = random.Random(9)
    numbers = synthetic_numbers(plan_prefixes, 50_000, seed=10)
    destinations = {n: f"Destination {n[1:4]}" for n in numbers}
    adapt = db.instant_adapter()
    columns = db.columns_of(Call)
    defaults = {f.attname: f.get_default() if f.has_default() else (None if f.null else "")
                for f in Call._meta.concrete_fields if f.attname in columns}
    started = time.perf_counter()
    sql = db.insert_sql(Call, columns)
    zone = site.zone
    batch = []
    # In start order, as the Miner stores a PBX's records.
    month = dt.datetime(2026, 3, 1, tzinfo=zone)
    starts = sorted(month + dt.timedelta(seconds=rng.randrange(31 * 86400 - 3600)) for _ in range(count))
    with transaction.atomic(), connection.cursor() as cursor:
        for index, start in enumerate(starts):
            direction = rng.choices(("outbound", "inbound", "internal"), (70, 20, 10))[0]
            number = rng.choice(numbers)
            answered = rng.random() < 0.85
            talk = int(rng.expovariate(1 / 150)) if answered else 0
            values = dict(defaults)
            values.update({
                "site_id": site.pk, "segment_id": segments[start.astimezone(zone).date()], "raw_offset": index,
                "start": adapt(start.astimezone(dt.UTC)), "direction": direction,
                "disposition": "answered" if answered else "no_answer", "answered": answered, "talk_seconds": talk,
                "extension_number": "1000", "remote_number": number, "e164": number,
                "category": "international" if direction == "outbound" else "", "currency": "EUR",
                "destination": destinations[number] if direction == "outbound" else "",
                "cost": Decimal(rng.randrange(0, 3000)) / 10000 if answered and direction == "outbound" else 0,
            })
            batch.append(tuple(values[c] for c in columns))
            if len(batch) >= 20000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    print(f"synthetic calls  {count:,} stored in {time.perf_counter() - started:.1f} s (raw executemany)")

    plans = ["Compare A", "Compare B"]
    # Timings on a shared machine vary: each measurement is the best of REPEAT runs.
    for count_plans in (1, 2):
        seconds = best(lambda n=count_plans: (services._LOADED.clear(), compare([site], first, last, plans[:n])))
        print(f"compare          {count:,} calls, {count_plans} plan{'s' if count_plans > 1 else ' '} of "
              f"{len(plan_prefixes):,} prefixes, whole path (plans loaded, calls read and priced): {seconds:6.2f} s  "
              f"({count / seconds:,.0f} calls/s)")

    def load():
        services._LOADED.clear()
        return [services.engine_plan(services.get_plan(name)) for name in plans]

    print(f"  load plans     both plans: {best(load):6.2f} s")
    rows = list(fetch_rows([site], first, last))
    fetch_seconds = best(lambda: sum(1 for _ in fetch_rows([site], first, last)))
    priced = sum(1 for row in rows if row[3] and row[4] > 0)
    print(f"  fetch rows     one streamed query: {fetch_seconds:6.2f} s  ({count / fetch_seconds:,.0f} calls/s; "
          f"{priced:,} of them answered with talk time, the ones priced)")
    for count_plans in (1, 2):
        def cold(n=count_plans):
            engine_plans = load()  # fresh versions: empty prefix and cost caches
            sites = plans_at([site], engine_plans[:n])
            started = time.perf_counter()
            price_rows(rows, sites, n)
            return time.perf_counter() - started

        cold_seconds = min(cold() for _ in range(REPEAT))
        warm = load()
        price_rows(rows, plans_at([site], warm[:count_plans]), count_plans)
        warm_seconds = best(lambda n=count_plans, loaded=warm: price_rows(rows, plans_at([site], loaded[:n]), n))
        print(f"  price rows     {count_plans} plan{'s' if count_plans > 1 else ' '}: "
              f"cold caches {cold_seconds:6.2f} s ({count / cold_seconds:,.0f} calls/s), "
              f"warm caches {warm_seconds:6.2f} s ({count / warm_seconds:,.0f} calls/s)")


REPEAT = 3


def best(work) -> float:
    """The shortest of REPEAT timed runs of ``work()``."""
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)

if __name__ == "__main__":
    main()
