"""Times `calltally users import` of a people file (5,000 rows unless told), on a scratch database.

    python -m calltally.directory.tests.bench_people_import [ROWS]

Uses CALLTALLY_DATABASE_URL when set (an empty PostgreSQL database), else a SQLite database in a
temporary CALLTALLY_DATA_DIR. Prints the times; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main(rows: int = 5000) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="calltally-bench-"))
    os.environ["CALLTALLY_DATA_DIR"] = str(scratch)  # never the real data folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltally.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from calltally.directory.importers import export_people, import_people
    from calltally.directory.models import CostCenter, Extension, ExtensionAlias, Person
    from calltally.sites.models import Site

    call_command("migrate", verbosity=0)
    if Person.objects.exists() and connection.vendor != "sqlite":
        sys.exit("the database already has people; point CALLTALLY_DATABASE_URL at an empty one")
    Site.objects.get_or_create(code="BENCH", defaults={"name": "Bench", "country": "IT", "driver": "asterisk_csv"})
    for code in ("SALES", "OPS", "RND"):
        CostCenter.objects.get_or_create(code=code, defaults={"name": code.title()})
    path = scratch / "people.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("username,first_name,last_name,email,site,cost_center,masked_digits,extension,"
                     "billing_enabled,aliases\n")
        for n in range(rows):
            did = f"0255{10000 + n}" if n % 7 == 0 else ""
            handle.write(f"user{n},First {n},Last {n},user{n}@example.org,BENCH,{('SALES', 'OPS', 'RND')[n % 3]},"
                         f"{n % 4},{10000 + n},{'yes' if n % 5 else 'no'},{did}\n")

    def timed(label: str, action):
        started = time.perf_counter()
        report = action()
        seconds = time.perf_counter() - started
        counts = report.as_dict()
        print(f"{label:<28} {seconds:6.2f} s   inserted {counts['inserted']}, updated {counts['updated']}, "
              f"unchanged {counts['unchanged']}, rejected {counts['rejected']}")

    print(f"{rows} rows, {connection.vendor}")
    timed("dry run (empty directory)", lambda: import_people(path, dry_run=True))
    timed("import", lambda: import_people(path))
    timed("import again (no-op)", lambda: import_people(path))
    exported = scratch / "export.csv"
    started = time.perf_counter()
    export_people(exported)
    print(f"{'export':<28} {time.perf_counter() - started:6.2f} s")
    timed("import of the export", lambda: import_people(exported))
    print(f"people {Person.objects.count()}, extensions {Extension.objects.count()}, "
          f"aliases {ExtensionAlias.objects.count()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
