"""The ``calltally`` console command: Django's management commands, on a
database that is always created and migrated before use.

Three rules hold for every command, and live here only:

* **Which data dir.** With ``CALLTALLY_DATA_DIR`` set, that folder (created if
  missing). Unset, the default (``calltally.conf.default_data_dir``); if it does
  not exist yet, only the commands that start an installation
  (:data:`STARTS_INSTALLATION`) create it, the commands that read no data
  (:data:`NEEDS_NO_DATA`) run on a throwaway folder, and every other command
  refuses, naming the folder, instead of starting an empty database there.
* **Where log lines go.** The long-running services (:data:`SERVICES`) log to
  the log file and to the console, as they always did (the terminal of ``up``,
  or the journal). Every other command logs to the file only and ends with a
  count of its warnings and errors, the first few shown (:class:`WarningTally`).
* **A closed pipe.** ``calltally status | head`` ends quietly, with the exit
  status of a process killed by SIGPIPE.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

# Commands that must run before (or instead of) migrations.
NO_AUTO_MIGRATE = {"migrate", "makemigrations", "sqlmigrate", "showmigrations", "help", "version",
                   "--help", "-h", "--version", "drivers", "check"}
# The long-running services: they keep logging to the console (see the module's docstring).
SERVICES = {"up", "web", "recorder", "miner", "scheduler"}
# Commands whose job is to start a new installation: they may create the default data dir.
STARTS_INSTALLATION = SERVICES | {"migrate"}
# Commands that read no CallTally data: without a data dir they run on a throwaway one.
NEEDS_NO_DATA = {"help", "drivers", "bench"}
# The exit status a shell reports for a process killed by SIGPIPE, as `yes | head` gives.
CLOSED_PIPE_STATUS = 128 + signal.SIGPIPE

OUR_COMMANDS = """\
Usage: calltally COMMAND [options]    (calltally COMMAND --help for its options)

Running
  up                 start every service (web, recorder, miner, scheduler) in one supervised process tree
  service            list, start, stop or restart a service of a running `up` from another shell
  status             per-site and per-service status (connections, records today, silent sites)
  recorder           run the Recorder alone (every connection: FTP, SFTP, TCP, serial, folder, HTTP push)
  miner              run the Miner alone (mines the spool continuously)
  scheduler          run the Scheduler alone (scheduled reports, alerts, budgets, retention, LDAP sync)
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
  report             reports: report list; report NAME [options] --format csv|xlsx|pdf|json
  discarded          list discarded calls
  reprocess          make discarded calls again (after adding extensions)
  recalc             make a period's calls again from the spool (after changing tariffs, codes…)
  job                background jobs asked for on the web: job list, job run (the queue, now), job cancel ID
  bench              measure ingest throughput

Scheduler
  smtp               outgoing mail: smtp set|show|test ADDRESS
  schedule           scheduled reports: schedule add|list|run NAME|history
  alert              alert rules and alerts: alert add|list|…
  budget             budgets per person or cost center: budget add|list
  retention          delete and mask what is older than its limit: retention show|set|run
  privacy            data-subject requests: privacy export|erase (--person USERNAME | --number N)

Administration
  api                REST API tokens: api token create|list|revoke USERNAME
  createsuperuser, changepassword, migrate …   (calltally help --all lists every command)
"""


def main(argv: list[str] | None = None) -> None:
    """The console entry point."""
    try:
        try:
            run(list(sys.argv[1:] if argv is None else argv))
        finally:
            # Flushed here, not at interpreter exit, so a closed pipe is caught below.
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`head`) has gone: stop quietly. Point both streams at /dev/null so
        # that Python's own flush at exit finds nothing to complain about.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a stream without a file: nothing to quiet
                os.dup2(devnull, stream.fileno())
        sys.exit(CLOSED_PIPE_STATUS)


def choose_data_dir(argv: list[str]) -> None:
    """Refuse, before settings create anything, to start an empty installation by accident."""
    from calltally import conf

    if conf.data_dir_explicit():
        return
    path = conf.default_data_dir()
    if path.is_dir():
        return
    if argv[0] in NEEDS_NO_DATA or {"-h", "--help"} & set(argv):
        conf.use_scratch_data_dir()
    elif argv[0] not in STARTS_INSTALLATION:
        raise SystemExit(conf.missing_data_dir_message(path))


def run(argv: list[str]) -> None:
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

    choose_data_dir(argv)
    from calltally import conf

    conf.console_logging = argv[0] in SERVICES
    import django

    django.setup()
    try:
        if argv[0] not in NO_AUTO_MIGRATE:
            from django.db import OperationalError

            from calltally.db import ensure_migrated

            try:
                ensure_migrated()
            except OperationalError as exc:
                raise conf.SettingError(
                    f"cannot use the database: {str(exc).strip()}. Check CALLTALLY_DATABASE_URL "
                    "(the server must be running and the database must exist) or unset it for the embedded "
                    "SQLite."
                ) from None
        from django.core.management import execute_from_command_line
        from django.core.management.base import BaseCommand

        # Django's system checks examine the code (models, URLs, templates), not the installation,
        # and a test runs them (calltally/tests/test_checks.py). Before every command they took half
        # of its start (0.5 s of 1.2 s: every view imported to check the URLs). `calltally check`
        # still runs them.
        BaseCommand.requires_system_checks = []
        execute_from_command_line(["calltally", *argv])
    finally:
        if not conf.console_logging:
            from calltally.cliutil import command_tally

            summary = command_tally().summary()
            if summary:
                sys.stdout.flush()  # the summary comes after the command's own output
                sys.stderr.write("".join(line + "\n" for line in summary))
                sys.stderr.flush()


if __name__ == "__main__":
    main()
