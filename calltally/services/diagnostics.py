"""The diagnostics bundle of `calltally diagnose`: everything support needs, no credential.

Secrets are removed twice. First where they are kept: settings and environment
variables whose name says password, secret, token or key; the storage key; and
each connection's secret options, as its collector declares them (schema.py:
no list of option names here). Then by value: every secret found that way — a
connection's decrypted, with the value of each variable an ``env:NAME`` names
and the passwords inside a login script — is scrubbed from every file of the
bundle, logs and raw records included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.db.models import Count, Max

from calltally import __version__, secretstore
from calltally.calls.choices import DiscardReason
from calltally.calls.models import DiscardedCall
from calltally.collectors import schema
from calltally.collectors.models import Connection
from calltally.sites.models import Site
from calltally.spool import rawview
from calltally.spool.storage import Spool

from . import control
from .status import site_status

REDACTED = "[REDACTED]"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PASS$|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH", re.IGNORECASE)
# Names that contain KEY but hold no secret.
NOT_SECRET = {"DEFAULT_AUTO_FIELD", "AUTH_PASSWORD_VALIDATORS", "AUTH_USER_MODEL", "AUTHENTICATION_BACKENDS",
              "PASSWORD_RESET_TIMEOUT", "PASSWORD_HASHERS",
              # The name of the sign-in form's password field ("password"), not a password.
              "AXES_PASSWORD_FORM_FIELD"}
ENV_PREFIXES = ("CALLTALLY_", "DJANGO_", "PG", "LANG", "LC_", "TZ", "PYTHON")
LOG_TAIL_BYTES = 2 * 1024 * 1024
RAW_RECORDS = 200
# What the bundle holds, file by file: said by the web's diagnostics page (docs/operations.md has the same table).
CONTENTS = (
    ("version.json", "CallTally, Python, Django, operating system and database engine"),
    ("settings.json", "every setting, secrets redacted"),
    ("environment.json", "the CALLTALLY_*, DJANGO_*, PG* and locale variables, secrets redacted"),
    ("services.json", "the state of each service"),
    ("sites.json", "each site's status and today's counters"),
    ("connections.json", "each connection's kind and options, secrets redacted"),
    ("undefined-extensions.json", "per site, the extension numbers not defined, with their discard counts"),
    ("raw/<SITE>.txt", f"the last {RAW_RECORDS} raw records of each site"),
    ("logs/calltally.log", f"the last {LOG_TAIL_BYTES // (1024 * 1024)} MB of the log"),
)


class Redactor:
    """Redacts by name and remembers the values, to scrub them from free text too."""

    def __init__(self):
        self.values: set[str] = set()

    def secret(self, value) -> str:
        if isinstance(value, str) and len(value) >= 4:
            self.values.add(value)
            # As the JSON files spell it too: a key's line ends, a password's quote, escaped.
            self.values.add(json.dumps(value, ensure_ascii=False)[1:-1])
        return REDACTED

    def url(self, text: str) -> str:
        try:
            parts = urlsplit(text)
        except ValueError:
            return text
        if parts.password:
            self.values.add(parts.password)
            netloc = parts.netloc.replace(":" + parts.password + "@", ":" + REDACTED + "@")
            return urlunsplit(parts._replace(netloc=netloc))
        return text

    def tree(self, value, name: str = ""):
        if name and name.upper() not in NOT_SECRET and SECRET_NAME.search(name):
            if isinstance(value, dict | list | tuple):
                return self.tree_all_secret(value)
            return self.secret(value) if value not in (None, "", [], {}) else value
        if isinstance(value, dict):
            return {str(key): self.tree(item, str(key)) for key, item in value.items()}
        if isinstance(value, list | tuple | set):
            return [self.tree(item) for item in value]
        if isinstance(value, str):
            value = str(value)  # a lazy or subclassed string (django-csp's nonce) as a plain one
            return self.url(value) if "://" in value else value
        if value is None or isinstance(value, bool | int | float):
            return value
        return str(value)

    def tree_all_secret(self, value):
        if isinstance(value, dict):
            return {str(key): self.tree_all_secret(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree_all_secret(item) for item in value]
        return self.secret(value) if value not in (None, "") else value

    def scrub(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text


def settings_dump(redactor: Redactor) -> dict:
    values = {}
    for name in dir(settings):
        if name.isupper():
            values[name] = redactor.tree(getattr(settings, name), name)
    return values


def environment_dump(redactor: Redactor) -> dict:
    values = {}
    for name, value in sorted(os.environ.items()):
        if SECRET_NAME.search(name):
            values[name] = redactor.secret(value)
        elif name.startswith(ENV_PREFIXES):
            values[name] = redactor.url(value) if "://" in value else value
    return values


def connections_dump(redactor: Redactor) -> list[dict]:
    dump = []
    for conn in Connection.objects.select_related("site").order_by("site__code", "id"):
        for value in schema.secret_values(conn.kind, conn.parameters):
            redactor.secret(value)
        dump.append({"site": conn.site.code, "id": conn.pk, "kind": conn.kind, "enabled": conn.enabled,
                     "parameters": schema.redacted(conn.kind, conn.parameters, REDACTED)})
    return dump


def undefined_extensions() -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    rows = (DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED)
            .exclude(extension_number="")
            .values("site__code", "extension_number")
            .annotate(discarded=Count("id"), last_received=Max("received"))
            .order_by("site__code", "extension_number"))
    for row in rows:
        result.setdefault(row["site__code"], []).append(
            {"extension": row["extension_number"], "discarded": row["discarded"],
             "last_received": row["last_received"]})
    return result


def raw_tail(spool: Spool, code: str, count: int = RAW_RECORDS) -> str:
    lines: list[str] = []
    for day in reversed(spool.days(code)):
        for record in rawview.records_backwards(spool, code, day):
            lines.append(f"{record.received}\t{record.source}\t{rawview.decode(record.raw)}")
            if len(lines) >= count:
                break
        if len(lines) >= count:
            break
    lines.reverse()
    return "\n".join(lines) + ("\n" if lines else "")


def log_tail(path: Path, size: int = LOG_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, end - size))
            data = handle.read()
    except FileNotFoundError:
        return ""
    if end > size:
        data = data.partition(b"\n")[2]  # drop the cut first line
    return data.decode("utf-8", "replace")


def _json(value) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n"


def build(output: Path) -> list[str]:
    """Write the bundle; returns the names of its files."""
    redactor = Redactor()
    # Collect the secrets first, so the free-text files below are scrubbed of them too.
    redactor.secret(settings.SECRET_KEY)
    redactor.secret(secretstore.current_key())
    files: dict[str, str] = {}
    files["settings.json"] = _json(settings_dump(redactor))
    files["environment.json"] = _json(environment_dump(redactor))
    files["connections.json"] = _json(connections_dump(redactor))
    files["version.json"] = _json({
        "calltally": __version__, "python": sys.version, "django": django.get_version(),
        "platform": platform.platform(), "machine": platform.machine(),
        "database": settings.DATABASES["default"]["ENGINE"], "generated": dt.datetime.now(dt.UTC),
    })
    files["services.json"] = _json(control.services())
    files["sites.json"] = _json(site_status())
    files["undefined-extensions.json"] = _json(undefined_extensions())
    spool = Spool(settings.SPOOL_DIR)
    for code in Site.objects.order_by("code").values_list("code", flat=True):
        files[f"raw/{code}.txt"] = raw_tail(spool, code)
    log_dir = Path(getattr(settings, "LOG_DIR", settings.DATA_DIR / "logs"))
    files["logs/calltally.log"] = log_tail(log_dir / "calltally.log")

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, text in files.items():
            bundle.writestr(name, redactor.scrub(text))
    os.chmod(partial, 0o600)
    os.replace(partial, output)
    return list(files)
