"""`calltally bench ingest|parse|reports`: how fast raw records become calls, and how fast the
reports answer on a large database.

Each benchmark runs in a child process on a throwaway data dir (SQLite) or an empty database, so
it neither touches the user's data nor measures the parent's memory. The command lives in the
reports app, the lowest that holds everything it times (the Miner and the report catalogue).
"""

from __future__ import annotations

import csv
import importlib
import inspect
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calltally.drivers import DriverOptions, get_driver_class, names
from calltally.drivers.synthkit import DEFAULT_NUMBER_POOL

EXTENSIONS = range(1000, 1200)


class Command(BaseCommand):
    help = "Benchmarks. `bench ingest`: synthetic CDRs imported end to end into a throwaway data dir."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True, metavar="ingest|parse|reports")
        reports = sub.add_parser("reports", help="summaries, call list and billing home on a database of N calls")
        reports.add_argument("--calls", type=int, default=10_000_000, help="synthetic calls (default 10000000)")
        reports.add_argument("--database-url", metavar="URL",
                             help="measure on this EMPTY PostgreSQL database (postgres://…) instead of SQLite")
        reports.add_argument("--data-dir", metavar="DIR",
                             help="keep the data dir (and its SQLite database) here; a database already built "
                                  "with as many calls is measured again without building it")
        reports.add_argument("--runs", type=int, default=5, help="runs per timing; the median is printed (5)")
        reports.add_argument("--independent", action="store_true",
                             help="make every call one by one (slow: ~10,000 a second) instead of copying the "
                                  "first 500,000 in the database: the rollups then have as many rows as real "
                                  "calls would make")
        reports.add_argument("--json", action="store_true")
        reports.add_argument("--in-child", action="store_true", help="(internal) run the measurement here")
        parse = sub.add_parser("parse", help="records per second each driver parses")
        parse.add_argument("--records", type=int, default=200_000, help="records per driver (default 200000)")
        parse.add_argument("--driver", action="append", help="only these drivers (repeat)")
        parse.add_argument("--json", action="store_true")
        ingest = sub.add_parser("ingest", help="records per second from file to calls")
        ingest.add_argument("--driver", default="asterisk_csv", help="default asterisk_csv")
        ingest.add_argument("--calls", type=int, default=200_000, help="records to generate (default 200000)")
        ingest.add_argument("--batch", type=int, default=None, help="Miner batch size")
        ingest.add_argument(
            "--number-pool", type=int, default=DEFAULT_NUMBER_POOL,
            help=f"outside numbers are drawn from a pool of this many, popular ones more often, as in real "
            f"traffic (default {DEFAULT_NUMBER_POOL}); 0 makes every number new (the worst case)",
        )
        ingest.add_argument(
            "--ring-groups", type=float, default=0.0, metavar="SHARE",
            help="share of inbound calls (0 to 1) that ring three phones, one record each, merged into one "
            "call (drivers whose synthesizer can: asterisk_csv)",
        )
        ingest.add_argument(
            "--database-url", metavar="URL",
            help="measure on this database (postgres://…) instead of a throwaway SQLite file: an EMPTY "
            "database made for the benchmark, which is emptied again at the end",
        )
        ingest.add_argument("--json", action="store_true")
        ingest.add_argument("--in-child", action="store_true", help="(internal) run the measurement here")

    def handle(self, *args, **options):
        if options["what"] == "parse":
            return self.parse(options)
        if options["what"] == "reports":
            return self.reports(options)
        driver = options["driver"]
        if driver not in names():
            raise CommandError(f"unknown driver {driver!r}; choose one of {', '.join(names())}")
        if options["calls"] < 1:
            raise CommandError("--calls must be at least 1")
        ring_groups = options["ring_groups"]
        if not 0 <= ring_groups <= 1:
            raise CommandError("--ring-groups is a share of inbound calls, from 0 to 1 (e.g. 0.2)")
        if ring_groups and "ring_groups" not in inspect.signature(synth_of(driver).synthesize).parameters:
            raise CommandError(f"the {driver} synthesizer cannot make ring groups; use --driver asterisk_csv")
        if options["in_child"]:
            print(json.dumps(measure_in_empty_database(
                driver, options["calls"], options["batch"], options["number_pool"], ring_groups
            )))
            return
        with tempfile.TemporaryDirectory(prefix="calltally-bench-") as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
            env["CALLTALLY_DATA_DIR"] = folder
            if options["database_url"]:
                env["CALLTALLY_DATABASE_URL"] = options["database_url"]
            argv = [sys.executable, "-m", "calltally.cli", "bench", "ingest", "--in-child", "--driver", driver,
                    "--calls", str(options["calls"]), "--number-pool", str(options["number_pool"]),
                    "--ring-groups", str(ring_groups)]
            if options["batch"]:
                argv += ["--batch", str(options["batch"])]
            child = subprocess.run(argv, env=env, capture_output=True, text=True)
            if child.returncode != 0:
                raise CommandError(f"the benchmark failed:\n{child.stderr.strip()}")
            result = json.loads(child.stdout.strip().splitlines()[-1])
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for line in render(result):
            self.stdout.write(line)


    def reports(self, options):
        if options["calls"] < 1000:
            raise CommandError("--calls must be at least 1000")
        if options["in_child"]:
            print(json.dumps(reports_in_child(options["calls"], options["runs"], self.stderr.write,
                                              independent=options["independent"])))
            return
        with tempfile.TemporaryDirectory(prefix="calltally-bench-") as scratch:
            folder = options["data_dir"] or scratch
            Path(folder).mkdir(parents=True, exist_ok=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
            env["CALLTALLY_DATA_DIR"] = folder
            if options["database_url"]:
                env["CALLTALLY_DATABASE_URL"] = options["database_url"]
            argv = [sys.executable, "-m", "calltally.cli", "bench", "reports", "--in-child",
                    "--calls", str(options["calls"]), "--runs", str(max(1, options["runs"]))]
            if options["independent"]:
                argv.append("--independent")
            child = subprocess.run(argv, env=env, stdout=subprocess.PIPE, text=True)
            if child.returncode != 0:
                raise CommandError("the benchmark failed (its errors are above)")
            result = json.loads(child.stdout.strip().splitlines()[-1])
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(f"{result['database']}, {result['calls']:,} calls, {result['cpus']} CPUs; "
                          f"built in {result['build_seconds']} s; median of {result['runs']} runs; load average "
                          f"{' '.join(map(str, result.get('load_average', [])))}")
        for name, ms in result["timings"].items():
            target = result["targets"].get(name)
            verdict = "" if target is None else ("  ok" if ms <= target else f"  OVER the {target} ms target")
            self.stdout.write(f"  {name:<58} {ms:>9.1f} ms{verdict}")
        self.stdout.write(f"  database size {result['database_bytes'] / 2**30:.2f} GiB")
        for name, size in result["table_bytes"].items():
            self.stdout.write(f"    {name}: {size / 2**30:.2f} GiB")
        self.stdout.write("  rollup rows by grain: " + ", ".join(f"{k} {v:,}" for k, v in result["rollups"].items()))

    def parse(self, options):
        chosen = options["driver"] or names()
        unknown = sorted(set(chosen) - set(names()))
        if unknown:
            raise CommandError(f"unknown driver(s) {', '.join(unknown)}; choose from {', '.join(names())}")
        results = [parse_rate(name, max(1, options["records"])) for name in chosen]
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return
        self.stdout.write(f"{'DRIVER':<16} {'RECORDS':>9} {'SECONDS':>8} {'RECORDS/S':>11}")
        for r in results:
            self.stdout.write(f"{r['driver']:<16} {r['records']:>9,} {r['seconds']:>8.2f} {r['rate']:>11,.0f}")


def parse_rate(name: str, count: int) -> dict:
    """The driver alone over ``count`` synthetic records, in the Miner's batch size."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    synth = importlib.import_module(f"calltally.drivers.{name}.synth")
    lines = list(synth.synthesize(count, seed=1, extensions=EXTENSIONS))
    driver = get_driver_class(name)(
        DriverOptions(timezone=ZoneInfo("Europe/Rome"), options=dict(getattr(synth, "SYNTH_OPTIONS", {})))
    )
    step = settings.MINER_BATCH_SIZE
    started = time.perf_counter()
    for first in range(0, len(lines), step):
        driver.parse_many(lines[first:first + step])
    seconds = time.perf_counter() - started
    return {"driver": name, "records": len(lines), "seconds": seconds, "rate": len(lines) / seconds if seconds else 0}


def csv_pass(path: Path) -> float:
    """Seconds of Python's csv module alone over the file, as text."""
    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def render(r: dict) -> list[str]:
    return [
        f"driver            {r['driver']}",
        f"records           {r['records']:,}",
        f"bare csv.reader   {r['csv_seconds']:8.2f} s  {r['records'] / r['csv_seconds']:>10,.0f} records/s"
        "   (the floor: Python's csv module alone over the same file;",
        "                  the median of a pass before and after each run below, whose ratio is to its own two)",
        f"bare parse        {r['parse_seconds']:8.2f} s  {r['parse_rate']:>10,.0f} records/s   (the driver alone)",
        f"end to end        {r['total_seconds']:8.2f} s  {r['total_rate']:>10,.0f} records/s   "
        f"{r['total_ratio']:4.1f}x csv   (spool {r['spool_seconds']:.2f} s, mine {r['mine_seconds']:.2f} s)",
        f"calltally import  {r['import_seconds']:8.2f} s  {r['import_rate']:>10,.0f} records/s   "
        f"{r['import_ratio']:4.1f}x csv   (the command in its own process, start-up included)",
        f"recalculation     {r['recalc_seconds']:8.2f} s  {r['recalc_rate']:>10,.0f} calls/s     "
        f"{r['recalc_ratio']:4.1f}x csv   ({r['recalc_calls']:,} calls made again from the spool)",
        f"cpu time          end to end {r['total_cpu_seconds']:.2f} s, "
        f"{r['total_cpu_seconds'] / r['records'] * 1e6:.0f} µs a record (the run's floor with its "
        f"{r['processes']} processes always busy: {r['total_cpu_seconds'] / r['processes']:.2f} s)",
        *floor_text(r),
        f"time by phase     end to end     {phases_text(r['phases'])}",
        f"                  recalculation  {phases_text(r['recalc_phases'])}",
        "                  (seconds summed over the Miner's processes; making rows: numbering, rating, rollup"
        " sums;",
        "                  the writers' turn, one transaction a batch, is taken one process at a time: its"
        " total bounds a run)",
        f"calls stored      {r['calls']:,}   discarded {r['discarded']:,}   internal skipped {r['skipped_internal']:,}",
        f"merged calls      {r['merged_calls']:,} made of {r['merged_legs']:,} records"
        f" (ring groups: {r['ring_groups']:.0%} of inbound calls)",
        f"outside numbers   {r['distinct_numbers']:,} distinct in {r['external_calls']:,} external calls"
        f" (pool {r['number_pool'] or 'off: every number new'})",
        f"peak memory       {r['peak_mib']:8.0f} MiB   (this process: end to end and recalculation); "
        f"calltally import {r['import_peak_mib']:.0f} MiB",
        f"database          {r['database']}, batch {r['batch']}",
    ]


def floor_text(r: dict) -> list[str]:
    """The work no run can skip (spool, parse, writing) against the CPU that 10x csv leaves.
    The writing's seconds, not its CPU: on PostgreSQL the server's work is not this process's, yet
    takes the same cores; written in one process, the writing's seconds are the work it is."""
    inherent = r["spool_seconds"] + r["parse_seconds"] + r["store_calls_seconds"]
    floor = inherent + r["store_rollups_seconds"]
    allowed = r["spool_seconds"] + r["processes"] * max(0.0, 10 * r["csv_seconds"] - r["spool_seconds"])

    def share(seconds: float) -> str:
        return f" ({seconds / allowed:.0%} of it)" if allowed else ""

    return [
        f"writing alone     calls {r['store_calls_seconds']:.2f} s, rollups {r['store_rollups_seconds']:.2f} s"
        f"   (the run's {r['stored_calls']:,} calls written again in one process, batch by batch",
        "                  as the Miner writes them: staged, copied, committed; the rollup sums apart, "
        f"{r['sums_seconds']:.2f} s)",
        f"unavoidable       10x csv leaves {allowed:.2f} s of CPU (the spool, then {r['processes']} processes "
        f"for 10 × {r['csv_seconds']:.2f} − {r['spool_seconds']:.2f} s);",
        f"                  spool, bare parse and writing the calls take {inherent:.2f} s{share(inherent)}, "
        f"with the rollups {floor:.2f} s{share(floor)},",
        "                  before any numbering, rating or rollup sum",
    ]


def phases_text(phases: dict) -> str:
    return (f"reading and parsing {phases['reading']:5.2f} s · making rows {phases['making']:5.2f} s · "
            f"writers' turn {phases['writing']:5.2f} s")


def synth_of(driver_name: str):
    return importlib.import_module(f"calltally.drivers.{driver_name}.synth")


def measure_in_empty_database(driver_name: str, count: int, batch: int | None, number_pool: int | None,
                              ring_groups: float = 0.0) -> dict:
    """:func:`measure`, on a database that must hold no CallTally data, emptied afterwards."""
    from django.apps import apps
    from django.core.management import call_command

    from calltally.db import ensure_migrated

    ensure_migrated()
    models = [m for m in apps.get_models() if m.__module__.startswith("calltally.")]
    if any(m._base_manager.exists() for m in models if m._meta.app_label in ("sites", "directory", "calls")):
        raise CommandError("the benchmark database must be empty (no sites, people or calls): "
                           "create one for it, e.g. createdb calltally_bench")
    try:
        return measure(driver_name, count, batch, number_pool, ring_groups)
    finally:
        call_command("flush", interactive=False, verbosity=0)


def measure(driver_name: str, count: int, batch: int | None, number_pool: int | None,
            ring_groups: float = 0.0) -> dict:
    from django.conf import settings

    from calltally.calls.models import Call
    from calltally.directory.models import AccountCode, CostCenter, Extension, Person, normalize_account_code
    from calltally.miner.pipeline import SiteMiner
    from calltally.miner.report import PHASES
    from calltally.sites.models import Site
    from calltally.spool.services import spool_file

    synth = synth_of(driver_name)
    options = dict(getattr(synth, "SYNTH_OPTIONS", {}))
    path = Path(settings.DATA_DIR) / f"bench-{driver_name}.cdr"
    with open(path, "wb") as handle:
        extra = {"ring_groups": ring_groups} if ring_groups else {}
        for raw in synth.synthesize(count, seed=1, extensions=EXTENSIONS, number_pool=number_pool, **extra):
            handle.write(raw + b"\n")

    site = Site.objects.create(
        code="BENCH", name="Benchmark", country="IT", area_code="02", timezone="Europe/Rome", currency="EUR",
        driver=driver_name, driver_options=options, access_codes=["0"], internal_digits_min=4,
        internal_digits_max=4,
    )
    centers = CostCenter.objects.bulk_create([CostCenter(code=f"CC{i}", name=f"Department {i}") for i in range(10)])
    people = Person.objects.bulk_create([
        Person(username=f"user{n}", first_name="User", last_name=str(n), site=site, cost_center=centers[n % 10])
        for n in EXTENSIONS
    ])
    Extension.objects.bulk_create([
        Extension(site=site, number=str(n), person=person) for n, person in zip(EXTENSIONS, people, strict=True)
    ])
    # The account codes the synthesizers dial (CC10…CC99 and 100…999), as a site would have them.
    AccountCode.objects.bulk_create(
        [AccountCode(site=site, code=f"CC{n}", normalized=normalize_account_code(f"CC{n}"),
                     description=f"Client {n}", cost_center=centers[n % 10]) for n in range(10, 100)]
        + [AccountCode(site=site, code=str(n), normalized=normalize_account_code(str(n)), description=f"Matter {n}")
           for n in range(100, 1000)]
    )

    # The floor: Python's csv module alone over the same file, as text. This shared machine's speed
    # drifts within a run, so each measurement's ratio is taken against the passes just before and
    # after it, and the floor shown is the median of every pass.
    passes = [statistics.median(csv_pass(path) for _ in range(3))]

    def ratio(seconds: float) -> float:
        """``seconds`` against the csv passes before (the last one taken) and after (one taken now)."""
        passes.append(csv_pass(path))
        floor = (passes[-2] + passes[-1]) / 2
        return seconds / floor if floor else 0

    # A plain `calltally import` of the same file, as a user runs it, into a site of its own.
    imported = Site.objects.create(
        code="IMPORT", name="Import", country="IT", area_code="02", timezone="Europe/Rome", currency="EUR",
        driver=driver_name, driver_options=options, access_codes=["0"], internal_digits_min=4,
        internal_digits_max=4,
    )
    Extension.objects.bulk_create([
        Extension(site=imported, number=str(n), person=person) for n, person in zip(EXTENSIONS, people, strict=True)
    ])
    for account in AccountCode.objects.filter(site=site):
        account.pk, account.site = None, imported
        account.save()
    started = time.perf_counter()
    command = subprocess.run([sys.executable, "-m", "calltally.cli", "import", "--site", "IMPORT", str(path), "--json"],
                             capture_output=True, text=True)
    import_seconds = time.perf_counter() - started
    if command.returncode != 0:
        raise CommandError(f"calltally import failed:\n{command.stderr.strip()}")
    import_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    import_ratio = ratio(import_seconds)

    # Bare parse: the driver alone over the same lines, in the Miner's batch size.
    driver = get_driver_class(driver_name)(DriverOptions(timezone=site.zone, options=options))
    step = batch or settings.MINER_BATCH_SIZE
    started = time.perf_counter()
    with open(path, "rb") as handle:
        while lines := [line.rstrip(b"\n") for line in itertools.islice(handle, step)]:
            driver.parse_many(lines)
    parse_seconds = time.perf_counter() - started

    passes.append(csv_pass(path))
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    spooled = spool_file(site, path)
    spool_seconds = time.perf_counter() - started
    summary = SiteMiner(site).mine(batch_size=batch)
    total_seconds = time.perf_counter() - started
    # The partner process is waited for when the run ends: its time is in the children's.
    total_cpu = cpu_seconds() - cpu_before
    total_ratio = ratio(total_seconds)
    records = spooled.records
    # Recalculation of every call just made: the same pipeline again, replacing rows.
    started = time.perf_counter()
    recalculation = SiteMiner(site).recalculate(batch_size=batch)
    recalculated = recalculation.reprocessed
    recalc_seconds = time.perf_counter() - started
    recalc_ratio = ratio(recalc_seconds)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the rows read back below
    storing = storing_alone(site, step)
    csv_seconds = statistics.median(passes)
    distinct = Call.objects.filter(site=site).exclude(direction="internal").values("remote_number").distinct().count()
    external = Call.objects.filter(site=site).exclude(direction="internal").count()
    return {
        "csv_seconds": csv_seconds,
        "import_seconds": import_seconds,
        "import_rate": records / import_seconds if import_seconds else 0,
        "import_ratio": import_ratio,
        "import_peak_mib": import_peak_mib,
        "total_ratio": total_ratio,
        "recalc_ratio": recalc_ratio,
        "csv_passes": passes,
        "total_cpu_seconds": total_cpu,
        "processes": min(settings.PROCESSES, os.cpu_count() or 1),
        "distinct_numbers": distinct,
        "external_calls": external,
        "number_pool": number_pool or 0,
        "driver": driver_name,
        "records": records,
        "parse_seconds": parse_seconds,
        "parse_rate": records / parse_seconds if parse_seconds else 0,
        "spool_seconds": spool_seconds,
        "mine_seconds": total_seconds - spool_seconds,
        "total_seconds": total_seconds,
        "total_rate": records / total_seconds if total_seconds else 0,
        "recalc_calls": recalculated,
        "phases": {phase: summary.phases.get(phase, 0.0) for phase in PHASES},
        "recalc_phases": {phase: recalculation.phases.get(phase, 0.0) for phase in PHASES},
        "recalc_seconds": recalc_seconds,
        "recalc_rate": recalculated / recalc_seconds if recalc_seconds else 0,
        "calls": summary.total_calls,
        "merged_calls": summary.merged_calls,
        "merged_legs": summary.merged_legs,
        "ring_groups": ring_groups,
        "discarded": summary.total_discarded,
        "skipped_internal": summary.skipped_internal,
        "peak_mib": peak_mib,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "batch": batch or settings.MINER_BATCH_SIZE,
        **storing,
    }


def storing_alone(site, batch: int) -> dict:
    """The writing alone, in one process: the site's calls read back, taken out, and written
    again batch by batch as the Miner writes them, first the calls (staged, copied in the writers'
    turn, committed), then their rollups (summed, staged, upserted, committed). No parsing,
    numbering, rating or merging: with the spool and the parse, this is work a run must do
    whatever the rest costs. The sums are timed apart: they are computing, not writing."""
    from django.db import connection, transaction

    from calltally import db
    from calltally.calls.models import Call, CallRollup
    from calltally.calls.rollups import Tally
    from calltally.miner.rows import CALL_ROW
    from calltally.miner.store import FETCHED, Store

    store = Store(site.pk)

    def as_made(values: tuple) -> tuple:
        """A row read back, typed as the row maker makes it (the instant as the database takes it)."""
        row = store.fetched(values)
        row["start"] = store.adapt_instant(row["start"])
        return tuple(row[column] for column in CALL_ROW)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {db.quoted(FETCHED)} FROM {db.table(Call)} WHERE site_id = %s "
                       "ORDER BY segment_id, raw_offset", [site.pk])
        rows = [as_made(values) for values in cursor.fetchall()]
        with transaction.atomic():  # in SQL: the ORM's delete would tell the rollups call by call
            for model in (Call, CallRollup):
                cursor.execute(f"DELETE FROM {db.table(model)} WHERE site_id = %s", [site.pk])
    batches = [rows[first:first + batch] for first in range(0, len(rows), batch)]
    started = time.perf_counter()
    for part in batches:
        calls = store.bindable(part)
        staged = store.stage(calls)
        with transaction.atomic():
            store.write(calls, [], Tally(), staged)
    calls_seconds = time.perf_counter() - started
    sums = 0.0
    started = time.perf_counter()
    for part in batches:
        summing = time.perf_counter()
        tally = store.tally_of(part, stage=False)
        sums += time.perf_counter() - summing
        tally.stage()
        with transaction.atomic():
            store.tally.absorb(tally)
            store.tally.flush()
    return {"store_calls_seconds": calls_seconds, "store_rollups_seconds": time.perf_counter() - started - sums,
            "sums_seconds": sums, "stored_calls": len(rows)}


def reports_in_child(calls: int, runs: int, log, independent: bool = False) -> dict:
    """Build (unless already built) and time; runs in the child, on its own data dir or database."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import setup_test_environment

    from calltally.calls import rollups
    from calltally.calls.models import Call, CallRollup, Grain
    from calltally.db import ensure_migrated
    from calltally.directory.models import Person
    from calltally.miner import benchreports
    from calltally.sites.models import Site

    ensure_migrated()
    existing = Call.rows.count()
    if existing not in (0, calls):
        raise CommandError(f"the database holds {existing:,} calls, not {calls:,}: give an empty one")
    built = {"build_seconds": 0}
    if not existing:
        built = benchreports.build(calls, log=lambda line: log(line + "\n"),
                                   **({"base": calls} if independent else {}))
    setup_test_environment()
    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.org", "bench-not-used")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def page(url):
        def get():
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
        return get

    today = dt.date.today()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    month = (last_month_end.replace(day=1), last_month_end)
    year = ((last_month_end.replace(day=1) - dt.timedelta(days=330)).replace(day=1), last_month_end)
    days365 = (today - dt.timedelta(days=364), today)
    rome = Site.objects.get(code="ROM")
    person = Call.objects.filter(site=rome, person__isnull=False).values_list("person__username", flat=True).first()
    timings, targets = {}, {}
    for label, period in (("month", month), ("year (12 whole months)", year), ("last 365 days", days365)):
        for group in ("person", "cost_center", "destination"):
            name = f"summary by {group}, {label}"
            timings[name] = benchreports.median_ms(lambda g=group, p=period: rollups.summary([g], *p), runs)
            targets[name] = 300
        name = f"summary by person of mobile calls, {label}"
        timings[name] = benchreports.median_ms(
            lambda p=period: rollups.summary(["person"], *p, filters={"category": "mobile"}), runs)
        targets[name] = 300
    # Whole reports: the summary by trunk (from the rollups' route grains), and the two that read
    # the calls (the most called numbers and the concurrent calls need each call).
    from calltally.accounts.models import Role
    from calltally.accounts.scope import Scope
    from calltally.reports import catalogue
    from calltally.reports.options import ReportOptions

    for report in ("summary-by-trunk", "top-called-numbers", "concurrent-calls"):
        for label, period in (("month", month), ("year (12 whole months)", year)):
            name = f"report {report}, {label}"
            options = ReportOptions(period="custom", date_from=period[0], date_to=period[1])
            timings[name] = benchreports.median_ms(
                lambda r=report, o=options: list(catalogue.run(r, o, Scope(Role.ADMINISTRATOR)).rows), runs)
            targets[name] = 300 if report.startswith("summary") else None
    targets = {k: v for k, v in targets.items() if v is not None}
    site_month = (f"/calls/?site=ROM&date_from={month[0]}&date_to={month[1]}&direction=outbound")
    for name, url, target in (
        ("call list, first page, unfiltered", "/calls/", 150),
        ("call list, first page, site + month + direction", site_month, 150),
        ("call list, first page, a person", f"/calls/?person={person}", 150),
        ("billing home", "/", 300),
    ):
        timings[name] = benchreports.median_ms(page(url), runs)
        targets[name] = target
    # The same first pages' database work alone, as the page's filters make it (what a page adds
    # is template rendering: CPU).
    month_q = Q(site=rome, start__gte=dt.datetime.combine(month[0], dt.time(), tzinfo=rome.zone),
                start__lt=dt.datetime.combine(month[1] + dt.timedelta(days=1), dt.time(), tzinfo=rome.zone),
                direction="outbound")
    person_ids = list(Person.objects.filter(username__iexact=person).values_list("pk", flat=True))
    for name, where in (("call list query, unfiltered", Q()),
                        ("call list query, site + month + direction", month_q),
                        ("call list query, a person", Q(person_id__in=person_ids))):
        timings[name] = benchreports.median_ms(lambda where=where: list(
            Call.objects.select_related("site", "person", "cost_center").filter(where).order_by("-start")[:51]), runs)
        targets[name] = 150
    counts = dict(CallRollup.objects.values_list("grain").annotate(n=Count("grain")).order_by())
    return {
        "database": connection.vendor, "calls": calls, "cpus": os.cpu_count(), "runs": runs,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "build_seconds": built["build_seconds"], "timings": timings, "targets": targets,
        "database_bytes": benchreports.database_size(), "table_bytes": benchreports.table_sizes(),
        "rollups": {Grain(k).name.lower(): v for k, v in sorted(counts.items())},
        "data_dir": str(settings.DATA_DIR),
    }
