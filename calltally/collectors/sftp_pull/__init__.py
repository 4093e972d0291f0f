"""Polls a folder on a PBX or file server over SFTP and spools the CDR files found there.

Each poll lists ``remote_path``, fetches the files matching ``pattern`` whose
size and modification time did not change over ``settle`` seconds (a file still
being written is left for the next poll), downloads each to a temporary file,
hands it to ``Sink.append_file`` (which fsyncs, and spools only what the spool
does not have: nothing for a file fetched again unchanged, only the new lines of
a file that grew) and only then applies ``after`` (keep, delete or move). See
docs/collectors-files.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import os
import posixpath
import stat
from pathlib import Path
from typing import Any

import asyncssh

from ..base import Collector, ConfigError, Secret
from ..common import check_unknown, expand_env, float_option, int_option, str_option

log = logging.getLogger("calltally.collectors.sftp_pull")

CONNECT_TIMEOUT = 30.0


def _default_state_dir() -> Path:
    """``<data dir>/sftp-pull``: Django's DATA_DIR when configured, else $CALLTALLY_DATA_DIR (default ./var)."""
    try:
        from django.conf import settings

        if settings.configured:
            return Path(settings.DATA_DIR) / "sftp-pull"
    except Exception:  # noqa: BLE001 - no Django settings: fall back to the environment
        pass
    return Path(os.environ.get("CALLTALLY_DATA_DIR", "var")).expanduser().resolve() / "sftp-pull"


class SftpPullCollector(Collector):
    kind = "sftp-pull"
    description = "polls a folder on a PBX or file server over SFTP and spools the files found"
    options = {
        "host": "SFTP server name or address (required)",
        "port": "SSH port (default 22)",
        "username": "login (required)",
        "password": Secret("password (stored encrypted; env:NAME reads a variable); or use private_key"),
        "private_key": Secret("an unencrypted private key (OpenSSH or PEM format): the path of its file, or the key "
                              "itself (its text, stored encrypted)", multiline=True),
        "known_hosts": "path of a known_hosts file with the server's key (default: ~/.ssh/known_hosts); "
                       "'ignore' accepts any key (insecure)",
        "remote_path": "remote folder to poll (default .)",
        "pattern": "file name glob, e.g. cdr_* (default *)",
        "interval": "seconds between polls (default 60)",
        "settle": "a file is fetched only if its size and time did not change over this many seconds (default 5)",
        "after": "what to do with a fetched file: keep, delete, or move:<remote folder> (default keep)",
        "state_dir": "folder for the list of fetched files and temporary downloads (default <data dir>/sftp-pull)",
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options)
        out: dict[str, Any] = {
            "host": str_option(parameters, "host", required=True),
            "port": int_option(parameters, "port", 22, 1, 65535),
            "username": str_option(parameters, "username", required=True),
            "remote_path": str_option(parameters, "remote_path", "."),
            "pattern": str_option(parameters, "pattern", "*"),
            "interval": float_option(parameters, "interval", 60.0, 1.0),
            "settle": float_option(parameters, "settle", 5.0, 0.0),
        }
        password = str_option(parameters, "password", "")
        private_key = str_option(parameters, "private_key", "")
        if not password and not private_key:
            raise ConfigError("give a password (--option password=…) or a private_key (--option private_key=PATH).")
        if password:
            out["password"] = password
        if private_key and _is_key_text(private_key):
            try:
                asyncssh.import_private_key(private_key)
            except (asyncssh.KeyImportError, ValueError) as exc:
                # asyncssh's reasons are fixed words ("Invalid PEM private key"); the key itself is never
                # repeated: it is a secret even when it is not a valid key.
                raise ConfigError(f"option private_key: the key given is not an unencrypted private key in OpenSSH "
                                  f"or PEM format ({exc}).") from None
            out["private_key"] = private_key
        elif private_key:
            path = Path(private_key).expanduser().resolve()
            try:
                asyncssh.read_private_key(str(path))
            except (OSError, asyncssh.KeyImportError) as exc:
                raise ConfigError(f"option private_key={private_key}: cannot read an unencrypted private key "
                                  f"there ({exc}).") from None
            out["private_key"] = str(path)
        known_hosts = str_option(parameters, "known_hosts", "")
        if known_hosts and known_hosts != "ignore":
            path = Path(known_hosts).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"option known_hosts={known_hosts} is not a file; give the path of a known_hosts "
                                  "file holding the server's key (ssh-keyscan -p PORT HOST > FILE).")
            known_hosts = str(path)
        if known_hosts:
            out["known_hosts"] = known_hosts
        after = str_option(parameters, "after", "keep")
        if after not in ("keep", "delete") and not (after.startswith("move:") and after[5:].strip()):
            raise ConfigError(f"option after={after!r} must be keep, delete or move:<remote folder>.")
        out["after"] = after
        state_dir = str_option(parameters, "state_dir", "")
        if state_dir:
            out["state_dir"] = str(Path(state_dir).expanduser().resolve())
        return out

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        self.settings = self.validate(config.parameters)
        base = Path(self.settings.get("state_dir") or _default_state_dir())
        self.state_path = base / f"{config.id}.json"
        self.download_dir = base / f"{config.id}.part"
        self.seen: dict[str, list] | None = None  # name -> [size, mtime], after=keep only

    # --- connection ---------------------------------------------------------
    def _where(self) -> str:
        return f"sftp://{self.settings['username']}@{self.settings['host']}:{self.settings['port']}"

    def _connect_options(self) -> dict[str, Any]:
        settings = self.settings
        options: dict[str, Any] = {
            "port": settings["port"],
            "username": settings["username"],
            "connect_timeout": CONNECT_TIMEOUT,
            "agent_path": None,
        }
        known_hosts = settings.get("known_hosts")
        if known_hosts == "ignore":
            options["known_hosts"] = None
        elif known_hosts:
            options["known_hosts"] = known_hosts
        if settings.get("password"):
            options["password"] = expand_env(settings["password"])
        private_key = settings.get("private_key")
        if private_key and _is_key_text(private_key):
            options["client_keys"] = [asyncssh.import_private_key(private_key)]
        elif private_key:
            options["client_keys"] = [private_key]
        else:
            options["client_keys"] = None
        return options

    def _connect(self):
        return asyncssh.connect(self.settings["host"], **self._connect_options())

    async def _matching(self, sftp: asyncssh.SFTPClient) -> dict[str, asyncssh.SFTPAttrs]:
        found = {}
        for entry in await sftp.readdir(self.settings["remote_path"]):
            name = entry.filename
            if name in (".", "..") or not fnmatch.fnmatchcase(name, self.settings["pattern"]):
                continue
            attrs = entry.attrs
            if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR or (
                    attrs.type in (None, asyncssh.FILEXFER_TYPE_UNKNOWN) and attrs.permissions is not None
                    and stat.S_ISREG(attrs.permissions)):
                found[name] = attrs
        return found

    # --- the seen list (after=keep) --------------------------------------------
    def _load_seen(self) -> dict[str, list]:
        try:
            data = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Not fatal: Sink.append_file still refuses content it already spooled.
            log.warning("connection %s: cannot read %s (%s); starting a new list", self.config.id, self.state_path,
                        exc)
            return {}
        return {str(name): list(value) for name, value in data.get("files", {}).items()}

    def _save_seen(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".json.tmp")
        with open(temporary, "w") as handle:
            json.dump({"files": self.seen}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state_path)

    # --- one poll -------------------------------------------------------------
    async def poll(self) -> int:
        """Fetch what is new once; returns how many files were spooled (duplicates included)."""
        after = self.settings["after"]
        if after == "keep" and self.seen is None:
            self.seen = await asyncio.to_thread(self._load_seen)
        fetched = 0
        async with self._connect() as connection, connection.start_sftp_client() as sftp:
            listed = await self._matching(sftp)
            candidates = {name: attrs for name, attrs in listed.items()
                          if after != "keep" or self.seen.get(name) != [attrs.size, attrs.mtime]}
            if after == "keep" and set(self.seen) - set(listed):
                # Forget files that are gone from the server; the list stays as long as the folder.
                self.seen = {name: value for name, value in self.seen.items() if name in listed}
                await asyncio.to_thread(self._save_seen)
            if candidates and self.settings["settle"]:
                await asyncio.sleep(self.settings["settle"])
                again = await self._matching(sftp)
                candidates = {name: attrs for name, attrs in candidates.items()
                              if name in again and (again[name].size, again[name].mtime) == (attrs.size, attrs.mtime)}
            for name in sorted(candidates, key=lambda item: (candidates[item].mtime or 0, item)):
                if await self._fetch(sftp, name, candidates[name]):
                    fetched += 1
        return fetched

    async def _fetch(self, sftp: asyncssh.SFTPClient, name: str, attrs: asyncssh.SFTPAttrs) -> bool:
        remote = posixpath.join(self.settings["remote_path"], name)
        self.download_dir.mkdir(parents=True, exist_ok=True)
        local = self.download_dir / name
        try:
            await sftp.get(remote, str(local))
            size = local.stat().st_size
            if attrs.size is not None and size != attrs.size:
                log.warning("connection %s: %s changed while downloading; next poll", self.config.id, name)
                return False
            # Kept on the server, the file may be a log still growing: a last line without a
            # line end may be cut mid-write, and is held back until the file is seen again.
            # A file deleted or moved away will not be seen again: it is taken as it is.
            after = self.settings["after"]
            result = await asyncio.to_thread(self.sink.append_file, local, name, f"sftp:{self.settings['host']}",
                                             after != "keep")
        finally:
            with contextlib.suppress(FileNotFoundError):
                local.unlink()
        log.info("connection %s: %s: %s", self.config.id, name, result.describe())
        if result.warning:
            log.warning("connection %s: %s: %s", self.config.id, name, result.warning)
            self.status.warn(f"{name}: {result.warning}")
        if result.records:
            self.status.received(result.records)
        # Spooled and fsync'd: only now may the remote copy go.
        if after == "keep":
            if result.pending:
                # Not marked as seen: the next poll fetches it again, and if it has not changed
                # meanwhile its last line is taken as complete.
                self.seen.pop(name, None)
            else:
                self.seen[name] = [attrs.size, attrs.mtime]
            await asyncio.to_thread(self._save_seen)
        elif after == "delete":
            await sftp.remove(remote)
        else:
            target = posixpath.join(after[5:].strip(), name)
            try:
                await sftp.posix_rename(remote, target)
            except asyncssh.SFTPError:
                await sftp.rename(remote, target)
        return True

    # --- run / test -----------------------------------------------------------
    async def run(self) -> None:
        interval = self.settings["interval"]
        try:
            while True:
                self.status.set("polling", f"{self._where()} {self.settings['remote_path']}")
                try:
                    fetched = await self.poll()
                except asyncio.CancelledError:
                    raise
                except ConfigError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a misbehaving server must not stop the collector
                    log.warning("connection %s: poll failed: %s", self.config.id, _describe(exc))
                    self.status.set("error", f"{self._where()}: {_describe(exc)}; retrying in {interval:g}s")
                else:
                    self.status.set("waiting", f"{fetched} file(s) fetched; next poll in {interval:g}s")
                await asyncio.sleep(interval)
        finally:
            self.status.set("stopped", "")

    async def test(self) -> str:
        try:
            async with self._connect() as connection, connection.start_sftp_client() as sftp:
                listed = await self._matching(sftp)
        except (OSError, asyncssh.Error) as exc:  # TimeoutError is an OSError
            raise ConfigError(f"{self._where()}: {_describe(exc)}") from None
        return (f"connected to {self._where()}; {len(listed)} file(s) in {self.settings['remote_path']} "
                f"match {self.settings['pattern']}.")


def _is_key_text(value: str) -> bool:
    """Whether option private_key holds a key itself rather than the path of its file."""
    return "-----BEGIN " in value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.PermissionDenied):
        return "authentication failed (check username, password or private_key)"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return f"server host key not trusted ({exc.reason}); add it to known_hosts"
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return f"no such remote file or folder ({exc.reason})"
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g}s"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__
