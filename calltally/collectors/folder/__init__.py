"""folder: another program drops record files into a folder; CallTally takes them."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..base import Collector, ConfigError
from ..common import check_unknown, float_option, str_option

log = logging.getLogger("calltally.recorder")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FolderCollector(Collector):
    kind = "folder"
    description = "Watched folder: files dropped there are spooled (each record once) and moved away"
    options = {
        "path": "folder to watch (required)",
        "pattern": "file name pattern, shell-style (default *); names starting with . are never taken",
        "stable_seconds": "take a file once its size and time stayed unchanged this long (default 5)",
        "processed": "folder spooled files are moved to (default <path>/processed)",
        "poll_seconds": "how often to look (default 1)",
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options)
        result = dict(parameters)
        path = Path(str_option(parameters, "path", required=True)).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"option path={path} must be an absolute folder path.")
        result["path"] = str(path)
        result["pattern"] = str_option(parameters, "pattern", "*")
        result["stable_seconds"] = float_option(parameters, "stable_seconds", 5.0)
        result["poll_seconds"] = float_option(parameters, "poll_seconds", 1.0, 0.05)
        processed = Path(str_option(parameters, "processed", str(path / "processed"))).expanduser()
        if not processed.is_absolute():
            processed = path / processed
        result["processed"] = str(processed)
        return result

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        p = self.validate(config.parameters)
        self.path, self.processed = Path(p["path"]), Path(p["processed"])
        self.pattern, self.stable, self.poll = p["pattern"], p["stable_seconds"], p["poll_seconds"]
        self.seen: dict[str, tuple[int, int, float]] = {}  # name → (size, mtime_ns, unchanged since)

    def candidates(self) -> list[Path]:
        """Files whose size and time have not changed for ``stable_seconds``."""
        ready, current = [], {}
        moment = time.monotonic()
        with os.scandir(self.path) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not fnmatch.fnmatch(entry.name, self.pattern):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                key = (info.st_size, info.st_mtime_ns)
                previous = self.seen.get(entry.name)
                since = previous[2] if previous and previous[:2] == key else moment
                current[entry.name] = (*key, since)
                if moment - since >= self.stable:
                    ready.append(Path(entry.path))
        self.seen = current
        return sorted(ready)

    def take(self, path: Path):
        """Spool what the file adds (fsync'd, its version recorded), then move it to the processed
        folder. A dropped file is complete: an unterminated last line is its last record."""
        result = self.sink.append_file(path, path.name, f"folder:{path.name}")
        self.processed.mkdir(parents=True, exist_ok=True)
        target = self.processed / path.name
        number = 1
        while target.exists():
            target = self.processed / f"{path.stem}.{number}{path.suffix}"
            number += 1
        try:
            os.replace(path, target)
        except OSError:  # another file system: copy, fsync, then remove
            shutil.copy2(path, target)
            with open(target, "rb") as handle:
                os.fsync(handle.fileno())
            path.unlink()
        _fsync_dir(self.processed)
        _fsync_dir(self.path)
        self.seen.pop(path.name, None)
        return result

    async def run(self) -> None:
        if not self.path.is_dir():
            raise ConfigError(f"folder {self.path} does not exist (create it or fix option path).")
        self.status.set("polling", str(self.path))
        while True:
            for path in await asyncio.to_thread(self.candidates):
                try:
                    result = await asyncio.shield(asyncio.to_thread(self.take, path))
                except FileNotFoundError:
                    continue  # taken away meanwhile
                except OSError as exc:
                    self.status.set("error", f"{path.name}: {exc}")
                    continue
                self.status.received(result.records)
                log.info("folder %s: %s: %s; moved", self.path, path.name, result.describe())
                if result.warning:
                    log.warning("folder %s: %s: %s", self.path, path.name, result.warning)
                    self.status.warn(f"{path.name}: {result.warning}")
            await asyncio.sleep(self.poll)

    async def test(self) -> str:
        if not self.path.is_dir():
            return f"FAILED: {self.path} is not a folder"
        if not os.access(self.path, os.R_OK | os.W_OK | os.X_OK):
            return f"FAILED: {self.path} must be readable and writable (files are moved out of it)"
        count = sum(1 for name in os.listdir(self.path) if fnmatch.fnmatch(name, self.pattern)
                    and (self.path / name).is_file())
        return f"OK: {self.path} is readable and writable; {count} file(s) waiting"
