"""Small helpers shared by the management commands."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date; use YYYY-MM-DD.") from None


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def full_clean_or_error(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None


def print_json(value, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


def key_values(pairs: list[str], option: str) -> dict:
    """``KEY=VALUE`` options; a VALUE that is valid JSON is taken as JSON."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{option} {pair!r} must look like KEY=VALUE.")
        try:
            result[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            result[key.strip()] = value
    return result


class WarningTally(logging.Handler):
    """Counts a one-shot command's warnings and errors and keeps the first few.

    A command's details (an extension acquired, a file resumed…) go to the log
    file only; the terminal keeps the command's own output, and this tally adds
    one summary of what went wrong at the end, so that 237 log lines do not bury
    the result. It stands where the console handler stands for the services
    (settings.LOGGING; calltally.cli decides which).
    """

    SHOWN = 5

    def __init__(self, log_file: Path):
        super().__init__(level=logging.WARNING)
        self.log_file = log_file
        self.levels: Counter[str] = Counter()
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.levels[record.levelno] += 1
            if len(self.first) < self.SHOWN:
                lines = record.getMessage().splitlines() or [""]
                self.first.append(f"{record.levelname.lower()}: {lines[0]}")
        except Exception:  # a broken format string must not break the command
            self.handleError(record)

    @property
    def count(self) -> int:
        return sum(self.levels.values())

    def summary(self) -> list[str]:
        """The lines to print; none when nothing was logged at WARNING or above."""
        if not self.count:
            return []
        errors = sum(n for level, n in self.levels.items() if level >= logging.ERROR)
        warnings = self.count - errors
        parts = [f"{n} {word}{'' if n == 1 else 's'}"
                 for n, word in ((errors, "error"), (warnings, "warning")) if n]
        where = (f"first {self.SHOWN} below; all in {self.log_file}" if self.count > self.SHOWN
                 else f"also in {self.log_file}")
        return [f"{', '.join(parts)} ({where})", *(f"  {line}" for line in self.first)]


_tally: WarningTally | None = None


def command_tally(log_file: str | None = None) -> WarningTally:
    """The process's one tally; settings.LOGGING names this factory.

    Django configures logging again at every ``django.setup()``, and the
    management utility calls that once more: the same tally must survive it.
    """
    global _tally
    if _tally is None:
        _tally = WarningTally(Path(log_file or "calltally.log"))
    return _tally
