"""Typed helpers that read CallTally's settings from the environment.

A wrong value stops the program with a message naming the variable and what it
accepts, never with a traceback.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


class SettingError(SystemExit):
    """Raised for a setting the user got wrong: Python prints the message to
    standard error and exits with status 1, without a traceback."""

    def __init__(self, message: str):
        super().__init__(f"calltally: configuration error: {message}")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is too small; it must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


def data_dir() -> Path:
    path = Path(env_str("CALLTALLY_DATA_DIR", "var")).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(
            f"CALLTALLY_DATA_DIR={path} cannot be created ({exc.strerror}); "
            "point it at a folder CallTally may write to."
        ) from None
    return path


def secret_key(directory: Path) -> str:
    """The SECRET_KEY: from the environment, else generated once into the data dir."""
    configured = env_str("CALLTALLY_SECRET_KEY")
    if configured:
        return configured
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions: the key signs sessions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def database(directory: Path) -> dict:
    """Django DATABASES['default'] from CALLTALLY_DATABASE_URL, or SQLite in the data dir."""
    url = env_str("CALLTALLY_DATABASE_URL")
    if not url:
        return database_sqlite(directory / "calltally.sqlite3")
    return database_url(url)


def database_sqlite(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
            # busy timeout instead of failing with "database is locked" mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA wal_autocheckpoint=10000;"
            ),
        },
        # A file, not memory: tests that run CallTally in a subprocess share it.
        "TEST": {"NAME": str(path.with_name("test_" + path.name))},
    }


def database_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:////absolute/path.sqlite3 — another SQLite file than the data dir's.
        path = unquote(parts.path)
        if not path or path == "/":
            raise SettingError(
                "CALLTALLY_DATABASE_URL=sqlite:///… names no file; use sqlite:////path/to/file.sqlite3."
            )
        return database_sqlite(Path(path))
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SettingError(
            f"CALLTALLY_DATABASE_URL has scheme {parts.scheme!r}; only postgres://user:password@host:port/name "
            "and sqlite:////path are supported (leave it unset for the embedded SQLite database)."
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SettingError("CALLTALLY_DATABASE_URL names no database; add /NAME after the host.")
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
    }
