"""The ``calltally`` console command: Django's management commands, on a
database that is always created and migrated before use."""

from __future__ import annotations

import fcntl
import os
import sys

# Commands that must run before (or instead of) migrations.
NO_AUTO_MIGRATE = {"migrate", "makemigrations", "sqlmigrate", "showmigrations", "help", "version",
                   "--help", "-h", "--version", "drivers", "check"}

OUR_COMMANDS = """\
Usage: calltally COMMAND [options]    (calltally COMMAND --help for its options)

Running
  up                 start every service (web, recorder, miner, scheduler) in one supervised process tree
  service            list, start, stop or restart a service of a running `up` from another shell
  status             per-site and per-service status (connections, records today, silent sites)
  recorder           run the Recorder alone (every connection: FTP, SFTP, TCP, serial, folder, HTTP push)
  miner              run the Miner alone (mines the spool continuously)
  scheduler          run the Scheduler alone (silent-site alarm, periodic LDAP sync)
  web                run the web server alone
  connection         add, list, test, change and remove connections
  spool              spool show: the raw records as received
  diagnose           write a diagnostics bundle (secrets redacted) for a support case

Sites and directory
  site               add, list and change sites (site set CODE --tariff PLAN)
  extension          add, list and remove extensions
  extensions         undefined extensions: list them, create them (extensions undefined --create)
  users              import and export people with their extensions (CSV, TSV, XLSX)
  costcenter         add, change and list cost centers
  accounts           account codes: import, export, list, unallocated
  ldap               synchronise people from LDAP / Active Directory
  drivers            list the PBX drivers

Tariffs
  tariff             load, export, assign and compare tariff plans; rate decks; holidays
  rate               cost simulator: how one call would be priced, step by step

Calls
  import             spool CDR files for a site and mine them
  calls              export calls as CSV or JSON
  discarded          list discarded calls
  reprocess          make discarded calls again (after adding extensions)
  recalc             make a period's calls again from the spool (after changing tariffs, codes…)
  bench              measure ingest throughput

Administration
  createsuperuser, changepassword, migrate …   (calltally help --all lists every command)
"""


def ensure_migrated() -> None:
    """Create or upgrade the database; a file lock keeps two first starts apart."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return
    with open(settings.DATA_DIR / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltally.settings")
    if not argv or argv in (["help"], ["-h"], ["--help"]):
        print(OUR_COMMANDS, end="")
        return
    if argv[:2] == ["help", "--all"]:
        argv = ["help"]
    if argv[0] in {"--version", "version"}:
        from calltally import __version__

        print(__version__)
        return

    import django

    django.setup()
    if argv[0] not in NO_AUTO_MIGRATE:
        from django.db import OperationalError

        try:
            ensure_migrated()
        except OperationalError as exc:
            from calltally.conf import SettingError

            raise SettingError(
                f"cannot use the database: {str(exc).strip()}. Check CALLTALLY_DATABASE_URL "
                "(the server must be running and the database must exist) or unset it for the embedded SQLite."
            ) from None
    from django.core.management import execute_from_command_line

    execute_from_command_line(["calltally", *argv])


if __name__ == "__main__":
    main()
