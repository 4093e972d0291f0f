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


PACKAGE_DIR = Path(__file__).resolve().parent
# Whether the calltally loggers write to the console as well as to the log file. True
# for the long-running services (and anything not started by calltally.cli);
# calltally.cli turns it off for one-shot commands before the settings are read.
console_logging = True
# Set by calltally.cli for commands that read no data: a throwaway folder instead of the default.
_scratch_dir: Path | None = None


def data_dir_explicit() -> bool:
    """Whether CALLTALLY_DATA_DIR is set: an explicit choice, created when missing."""
    return bool(env_str("CALLTALLY_DATA_DIR").strip())


def checkout_dir() -> Path | None:
    """The source checkout CallTally runs from (an editable install, or the folder itself), if any."""
    folder = PACKAGE_DIR.parent
    try:
        project = (folder / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return folder if 'name = "calltally"' in project else None


def default_data_dir() -> Path:
    """Where the data lives when CALLTALLY_DATA_DIR is not set; never the current folder.

    A checkout keeps it beside the code (``<checkout>/var``, where ``scripts/start``
    puts it); an installed package in the user's data folder (``$XDG_DATA_HOME/calltally``,
    by default ``~/.local/share/calltally``).
    """
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / "var"
    base = env_str("XDG_DATA_HOME").strip()
    if not base:
        try:
            base = str(Path.home() / ".local" / "share")
        except RuntimeError:  # no home folder at all: nothing better than the current folder
            return Path("var").resolve()
    return Path(base).expanduser().resolve() / "calltally"


def data_dir_path() -> Path:
    """The data dir this process uses, without creating it."""
    if _scratch_dir is not None:
        return _scratch_dir
    if data_dir_explicit():
        return Path(env_str("CALLTALLY_DATA_DIR").strip()).expanduser().resolve()
    return default_data_dir()


def missing_data_dir_message(path: Path) -> str:
    """One line for a command that refuses to start a new, empty installation by accident."""
    return (
        f"calltally: no CallTally data dir at {path} (CALLTALLY_DATA_DIR is not set, so that is the default). "
        "Set CALLTALLY_DATA_DIR to the data dir your CallTally service uses (e.g. /var/lib/calltally), "
        "or start CallTally first (`calltally up` or scripts/start)."
    )


def use_scratch_data_dir() -> Path:
    """A throwaway data dir for this process, removed at exit: for commands that read no data."""
    global _scratch_dir
    import atexit
    import shutil
    import tempfile

    _scratch_dir = Path(tempfile.mkdtemp(prefix="calltally-scratch-"))
    atexit.register(shutil.rmtree, _scratch_dir, ignore_errors=True)
    return _scratch_dir


def data_dir() -> Path:
    path = data_dir_path()
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


def describe_database(db: dict) -> str:
    """The database in one line, for people: the SQLite file, or PostgreSQL without its password."""
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    user = f"{db.get('USER')}@" if db.get("USER") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL {user}{db.get('HOST') or 'localhost'}{port}/{db['NAME']}"
