"""Django's system checks, which the command line does not run before each command (cli.run)."""

from django.core.management import call_command


def test_the_project_passes_djangos_system_checks_without_a_warning():
    call_command("check", fail_level="WARNING")
