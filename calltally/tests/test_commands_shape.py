"""Every calltally command keeps Django's own machinery working when run for real.

Tests call commands in-process with ``call_command``, which skips the system checks;
the real CLI runs them through ``BaseCommand.check()``. A command that names one of its
own helpers ``check`` (or another BaseCommand hook) works in the tests and fails for users.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

from django.core.management import get_commands
from django.core.management.base import BaseCommand

# BaseCommand's methods that Django itself calls while running a command.
HOOKS = {"check", "execute", "run_from_argv", "create_parser", "print_help", "get_version",
         "add_base_argument", "check_migrations"}


def calltally_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app.startswith("calltally")}


def test_no_command_hides_a_method_django_calls_while_running_it():
    hiding = []
    for name, app in calltally_commands().items():
        command = importlib.import_module(f"{app}.management.commands.{name}").Command
        for hook in HOOKS:
            if getattr(command, hook) is not getattr(BaseCommand, hook):
                hiding.append(f"{name}.{hook}")
    assert not hiding


def test_an_account_is_added_by_the_real_command_line(tmp_path):
    env = {"CALLTALLY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "calltally.cli"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, capture_output=True, timeout=300)
    added = subprocess.run([*run, "account", "add", "ann", "--role", "administrator"], input="Long-enough-pass-9\n",
                           env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert "account ann added: Administrator" in added.stdout
