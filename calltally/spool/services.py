"""Putting whole files into the spool (used by `calltally import` and the
file-based collectors)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from calltally.sites.models import Site

from .models import SpooledFile
from .storage import Spool, default_spool

CHUNK = 16 * 1024 * 1024


@dataclass(slots=True)
class SpoolFileResult:
    name: str
    records: int
    duplicate: bool
    sha256: str


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def spool_file(site: Site, path: Path, spool: Spool | None = None, source: str | None = None) -> SpoolFileResult:
    """Append every record of a file to the site's spool, once per content.

    Records are the file's lines (LF, CRLF or CR); empty lines are not records.
    The file's hash is recorded only after its records are fsync'd, so a crash
    can at worst spool a file twice, never lose it.
    """
    spool = spool or default_spool()
    name = path.name
    sha256, size = file_digest(path)
    if SpooledFile.objects.filter(site=site, sha256=sha256).exists():
        return SpoolFileResult(name, 0, True, sha256)
    source = source or f"import:{name}"
    count = 0
    carry = b""
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            data = carry + block
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1:]
            lines = [line for line in data[: cut + 1].splitlines() if line]
            if lines:
                count += spool.append(site.code, lines, source).count
        lines = [line for line in carry.splitlines() if line]
        if lines:
            count += spool.append(site.code, lines, source).count
    SpooledFile.objects.get_or_create(
        site=site, sha256=sha256, defaults={"name": name[:255], "size": size, "records": count}
    )
    return SpoolFileResult(name, count, False, sha256)
