"""Report export benchmark: a call list of a million calls written as CSV, XLSX (and PDF, capped)
as a stream, with the time taken and the peak memory of the process that wrote it.

Runs standalone on a throwaway data dir with its own SQLite database (CALLTALLY_* settings of the
environment are ignored, so it never touches real data), removed at the end unless --keep:

    .venv/bin/python benchmarks/report_export.py [--calls 1000000] [--formats csv,xlsx,pdf]
    .venv/bin/python benchmarks/report_export.py --data-dir /tmp/bench --keep   # reuse a built database

The calls are those of `calltally bench reports` (calltally.miner.benchreports: a year over four
sites and currencies). Each export is `calltally report call-list --period custom --from … --to …
--format F --output FILE` run in a fresh process, which prints its own peak resident memory
(``ru_maxrss``) next to its memory before the export began: memory that does not grow with the
rows is the proof the rows were streamed. The PDF stops at calltally.reports.export_pdf.MAX_ROWS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environment(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
    env["CALLTALLY_DATA_DIR"] = str(data_dir)
    env["CALLTALLY_LOG_LEVEL"] = "WARNING"
    env["DJANGO_SETTINGS_MODULE"] = "calltally.settings"
    return env


def setup(migrate: bool = True) -> None:
    import django

    django.setup()
    if migrate:
        from calltally.db import ensure_migrated

        ensure_migrated()


def built_already(calls: int) -> bool:
    """Whether the data dir already holds the calls (a reused --data-dir is not migrated again:
    the export reads calls, and a later migration of the working tree must not stop it)."""
    from django.db import DatabaseError

    from calltally.calls.models import Call

    try:
        return Call.rows.count() == calls
    except DatabaseError:
        return False


def build(calls: int) -> None:
    """The database of synthetic calls (child process: the builder's memory is not the exports')."""
    setup(migrate=False)
    if built_already(calls):
        print(json.dumps({"built": False, "calls": calls}))
        return
    setup()
    from calltally.calls.models import Call
    from calltally.miner import benchreports

    existing = Call.rows.count()
    if existing == calls:
        print(json.dumps({"built": False, "calls": existing}))
        return
    if existing:
        sys.exit(f"the database holds {existing:,} calls, not {calls:,}: give an empty data dir")
    # A fifth made one by one, the rest copied by the database: the export reads rows, whatever made them.
    built = benchreports.build(calls, log=lambda line: print(line, file=sys.stderr), base=max(1000, calls // 5))
    print(json.dumps({"built": True, "calls": built["calls"], "build_seconds": built["build_seconds"]}))


def export(fmt: str, target: str) -> None:
    """One export through the command, timed, with this process's memory before and at its peak."""
    setup(migrate=False)
    from django.core.management import call_command

    from calltally.calls.models import Call

    first = Call.rows.order_by("start").values_list("start", flat=True).first()
    last = Call.rows.order_by("-start").values_list("start", flat=True).first()
    # A day either side: the range is in each site's zone.
    start, end = (first - dt.timedelta(days=1)).date(), (last + dt.timedelta(days=1)).date()
    trace = os.environ.get("CALLTALLY_BENCH_TRACE") == "1"
    if trace:
        import tracemalloc

        tracemalloc.start()
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    call_command("report", "call-list", "--from", start.isoformat(), "--to", end.isoformat(), "--format", fmt,
                 "--output", target, stderr=io.StringIO())
    seconds = time.monotonic() - began
    print(json.dumps({"format": fmt, "seconds": round(seconds, 1), "bytes": os.path.getsize(target),
                      "rss_before_mib": round(before_kib / 1024, 1),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "python_peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 1) if trace else None}))


def child(env: dict, *argv: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *argv], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed (its errors are above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,xlsx,pdf", help="comma-separated: csv, xlsx, pdf, json")
    parser.add_argument("--data-dir", help="build here (or reuse what is there) instead of a temporary dir")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and the exported files")
    parser.add_argument("--trace", action="store_true",
                        help="also print the peak of Python's own allocations (tracemalloc; slower): the rest of "
                             "the resident memory is SQLite's page cache and sorter, bounded by its pragmas")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        if args.child[0] == "build":
            build(int(args.child[1]))
        else:
            export(args.child[1], args.child[2])
        return
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="calltally-export-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = environment(data_dir)
    if args.trace:
        env["CALLTALLY_BENCH_TRACE"] = "1"
    try:
        began = time.monotonic()
        built = child(env, "--child", "build", str(args.calls))
        print(f"{built['calls']:,} calls "
              f"({'built in ' + str(round(time.monotonic() - began)) + ' s' if built['built'] else 'reused'}) "
              f"in {data_dir}")
        print(f"{'FORMAT':<6} {'SECONDS':>8} {'ROWS/S':>9} {'FILE MiB':>9} {'RSS BEFORE':>11} {'PEAK RSS':>9}"
              + ("  PYTHON PEAK" if args.trace else ""))
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            target = data_dir / f"call-list.{fmt}"
            r = child(env, "--child", "export", fmt, str(target))
            rows = built["calls"] if fmt != "pdf" else min(built["calls"], 100_000)
            print(f"{fmt:<6} {r['seconds']:>8.1f} {rows / max(r['seconds'], 0.001):>9,.0f} "
                  f"{r['bytes'] / 2**20:>9.1f} {r['rss_before_mib']:>8.1f} MiB {r['peak_rss_mib']:>5.1f} MiB"
                  + (f"  {r['python_peak_mib']:>7.1f} MiB" if args.trace else ""))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
