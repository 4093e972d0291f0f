"""FTP (and FTPS) server a PBX pushes CDR files to (Cisco UCM's billing-server push).

Each connection listens on its own port and stores uploads in its own folder,
``<folder>/incoming/<connection id>/``. An upload reaches the spool only once it
completed; the transfer-complete reply (226) is sent only after the Sink has
appended and fsync'd the file's records (see :class:`_SpoolingDTPMixin`).
See docs/collectors-files.md.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import hmac
import logging
import os
import secrets
import socket
import threading
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from ..base import Collector, ConfigError, Secret
from ..common import check_unknown, int_option, str_option

log = logging.getLogger("calltally.collectors.ftp")

DEFAULT_BIND = "127.0.0.1"
DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024
# List, change folder, store (STOR/STOU). No APPE/delete/rename/mkdir: an upload is a whole file.
PERMISSIONS = "elw"
LOOP_TICK = 0.2  # seconds between checks of the stop flag
DRAIN_MIN = 64 * 1024 * 1024  # an upload over max_file_size is read this far at least before it is cut off

# scrypt cost: ~16 MiB and a few tens of milliseconds per check.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$<salt b64>$<key b64>``; the clear text is never stored."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(key).decode()])


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _default_folder() -> Path:
    """``<data dir>/ftp``: Django's DATA_DIR when configured, else $CALLTALLY_DATA_DIR (default ./var)."""
    try:
        from django.conf import settings

        if settings.configured:
            return Path(settings.DATA_DIR) / "ftp"
    except Exception:  # noqa: BLE001 - no Django settings: fall back to the environment
        pass
    return Path(os.environ.get("CALLTALLY_DATA_DIR", "var")).expanduser().resolve() / "ftp"


def _parse_bool(parameters: dict[str, Any], name: str, default: bool) -> bool:
    value = parameters.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"option {name}={value!r} must be true or false.")


def _parse_ports(text: str) -> list[int]:
    try:
        low, _, high = text.partition("-")
        first, last = int(low), int(high or low)
    except ValueError:
        raise ConfigError(f"option passive_ports={text!r} must be a range such as 60000-60100.") from None
    if not 1024 <= first <= last <= 65535:
        raise ConfigError(f"option passive_ports={text!r} must be a range within 1024-65535, low first.")
    return list(range(first, last + 1))


def _tls_classes():
    try:
        from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler
    except ImportError:
        return None
    return TLS_FTPHandler, TLS_DTPHandler


class _HashAuthorizer(DummyAuthorizer):
    """One user whose password is checked against a scrypt hash."""

    def __init__(self, username: str, password_hash: str, home: str):
        super().__init__()
        self.password_hash = password_hash
        self.add_user(username, "", home, perm=PERMISSIONS, msg_login="Welcome to CallTally.",
                      msg_quit="Goodbye.")

    def validate_authentication(self, username, password, handler):
        if not self.has_user(username) or not check_password(password or "", self.password_hash):
            raise AuthenticationFailed("Authentication failed.")


class _SpoolingDTPMixin:
    """Spools a completed upload *before* pyftpdlib replies 226.

    pyftpdlib's ``DTPHandler.close()`` pushes the 226 reply and only then calls
    ``FTPHandler.on_file_received``, so spooling in that callback would
    acknowledge records that are not yet on disk. This hook runs first, in the
    server's own thread: the file is closed, handed to ``Sink.append_file``
    (which fsyncs), and only if that succeeded does the 226 go out; otherwise
    the reply becomes 451 and the file is discarded so the PBX sends it again.
    """

    def close(self):
        if not self._closed and getattr(self.file_obj, "too_large", False):
            limit = self.cmd_channel.max_file_size
            self._resp = (f"552 File larger than {limit} bytes; not stored.", logging.getLogger("pyftpdlib").warning)
            self.transfer_finished = False  # never spooled; the part written is removed
            self.cmd_channel.refuse_too_large(self.file_obj.name)
        if (not self._closed and self.receive and self.transfer_finished and self.file_obj is not None
                and self._resp and self._resp[0].startswith("226")):
            if not self.file_obj.closed:
                self.file_obj.close()
            error = self.cmd_channel.spool_upload(self.file_obj.name)
            if error:
                self.transfer_finished = False  # the file is then removed by on_incomplete_file_received
                self._resp = (f"451 {error}; file not stored, send it again.", logging.getLogger("pyftpdlib").error)
        super().close()


class _LimitedFile:
    """An upload's file object that refuses to grow past ``limit`` bytes (``max_file_size``).

    Past the limit, what the client sends is read and thrown away rather than refused:
    closing the data connection under a client still sending breaks its pipe before it
    reads any reply, so a PBX would retry a file it should be told (552) will never fit.
    A client still sending after ``max(limit, DRAIN_MIN)`` more bytes is cut off.
    """

    def __init__(self, handle, limit: int):
        self._handle = handle
        self._limit = limit
        self._written = 0
        self.too_large = False

    def write(self, data):
        self._written += len(data)
        if self._written > self._limit:
            self.too_large = True
            if self._written > self._limit + max(self._limit, DRAIN_MIN):
                raise OSError(errno.EFBIG, "File too large")
            return len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)


class _LimitedFS(AbstractedFS):
    def open(self, filename, mode):
        handle = super().open(filename, mode)
        if any(flag in mode for flag in "wa+"):
            return _LimitedFile(handle, self.cmd_channel.max_file_size)
        return handle


class _SpoolingFTPHandler(FTPHandler):
    collector: FtpCollector
    max_file_size = DEFAULT_MAX_FILE_SIZE
    # A wrong password is answered 530 after 3 s, and the third one closes the session:
    # pyftpdlib's defaults, written here so that they stay whatever its next version does.
    auth_failed_timeout = 3
    max_login_attempts = 3

    def on_login_failed(self, username, password):
        # pyftpdlib reports this on its own logger, which only reaches the console: whoever tries
        # passwords must be in CallTally's log file, with their address.
        ending = "; session closed" if self.attempted_logins >= self.max_login_attempts else ""
        log.warning("connection %s: failed FTP login as %r from %s (attempt %d)%s", self.collector.config.id,
                    username, self.remote_ip, self.attempted_logins, ending)

    def refuse_too_large(self, path: str) -> None:
        log.warning("connection %s: %s from %s is larger than max_file_size (%d bytes): refused with 552",
                    self.collector.config.id, Path(path).name, self.remote_ip, self.max_file_size)

    def spool_upload(self, path: str) -> str:
        """Append a completed upload to the spool; '' on success, else the reason it failed."""
        return self.collector._spool_upload(Path(path), self.remote_ip)

    def on_file_received(self, file):
        # Already spooled by the DTP handler before the 226 went out.
        if not self.collector.keep_files:
            _remove(file)

    def on_incomplete_file_received(self, file):
        _remove(file)  # never acknowledged: the PBX keeps it and sends it again


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)


class FtpCollector(Collector):
    kind = "ftp"
    description = "FTP/FTPS server the PBX pushes CDR files to (Cisco UCM billing server)"
    options = {
        "port": "TCP port to listen on (default 2121; 21 needs root or CAP_NET_BIND_SERVICE; 0 = any free port)",
        "bind": "address to listen on (default 127.0.0.1; use 0.0.0.0 so a PBX on the network can reach it)",
        "username": "login the PBX uses (required)",
        "password": Secret("password the PBX uses (required; stored only as an scrypt hash; env:NAME reads a variable)",
                           hashed_as="password_hash", hasher=hash_password),
        "passive_ports": "passive-mode data port range such as 60000-60100 (default: any free port)",
        "masquerade_address": "address to announce in passive replies when behind NAT (default: none)",
        "tls": "true for explicit FTPS (AUTH TLS required); needs certfile and keyfile (default false)",
        "certfile": "PEM certificate for tls",
        "keyfile": "PEM private key for tls (default: the certfile)",
        "max_file_size": "largest accepted upload in bytes (default 104857600 = 100 MB)",
        "folder": "base folder; uploads go to <folder>/incoming/<connection id>/ (default <data dir>/ftp)",
        "keep_files": "true keeps received files in the folder after spooling (default false: deleted)",
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options, extra=("password_hash",))
        out: dict[str, Any] = {
            "port": int_option(parameters, "port", 2121, 0, 65535),
            "bind": str_option(parameters, "bind", DEFAULT_BIND),
            "username": str_option(parameters, "username", required=True),
        }
        try:
            socket.getaddrinfo(out["bind"], None, proto=socket.IPPROTO_TCP)
        except socket.gaierror:
            raise ConfigError(f"option bind={out['bind']!r} is not an address of this machine "
                              "(use 0.0.0.0 for all).") from None
        password = parameters.get("password")
        if password not in (None, ""):
            password = str(password)
            if password.startswith("env:"):
                out["password"] = password  # a reference to a variable, read at start; not a secret
            else:
                out["password_hash"] = hash_password(password)
        elif parameters.get("password_hash"):
            stored = str(parameters["password_hash"])
            if not stored.startswith("scrypt$"):
                raise ConfigError("password_hash is not a CallTally hash; set the password with --option password=…")
            out["password_hash"] = stored
        else:
            raise ConfigError("option password is required (add --option password=VALUE).")
        passive = str_option(parameters, "passive_ports", "")
        if passive:
            _parse_ports(passive)
            out["passive_ports"] = passive
        masquerade = str_option(parameters, "masquerade_address", "")
        if masquerade:
            out["masquerade_address"] = masquerade
        out["tls"] = _parse_bool(parameters, "tls", False)
        if out["tls"]:
            certfile = str_option(parameters, "certfile", "")
            if not certfile:
                raise ConfigError("tls=true needs a certificate: add --option certfile=/path/cert.pem "
                                  "(and keyfile=/path/key.pem if the key is separate).")
            keyfile = str_option(parameters, "keyfile", certfile)
            for name, path in (("certfile", certfile), ("keyfile", keyfile)):
                if not Path(path).is_file():
                    raise ConfigError(f"option {name}={path} is not a readable file.")
            if _tls_classes() is None:
                raise ConfigError("tls=true needs the pyOpenSSL package (pip install pyopenssl).")
            out["certfile"] = str(Path(certfile).resolve())
            out["keyfile"] = str(Path(keyfile).resolve())
        out["max_file_size"] = int_option(parameters, "max_file_size", DEFAULT_MAX_FILE_SIZE, 1)
        folder = str_option(parameters, "folder", "")
        if folder:
            out["folder"] = str(Path(folder).expanduser().resolve())
        out["keep_files"] = _parse_bool(parameters, "keep_files", False)
        return out

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        self.settings = self.validate(config.parameters)
        self.keep_files = self.settings["keep_files"]
        self.home = Path(self.settings.get("folder") or _default_folder()) / "incoming" / str(config.id)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self.server: FTPServer | None = None

    # --- called in the FTP server's thread --------------------------------
    def _spool_upload(self, path: Path, remote_ip: str) -> str:
        try:
            # An upload is a whole file: the PBX chose to send it as it is, so an unterminated
            # last line is its last record. A PBX that sends the same file again, longer, has
            # only the new part spooled.
            result = self.sink.append_file(path, path.name, f"ftp:{remote_ip}")
        except Exception as exc:  # noqa: BLE001 - reported to the PBX as 451 and in the status
            log.exception("connection %s: cannot spool %s", self.config.id, path.name)
            self._status("error", f"cannot spool {path.name}: {exc}")
            return "Local error in processing"
        log.info("connection %s: %s from %s: %s", self.config.id, path.name, remote_ip, result.describe())
        if result.warning:
            log.warning("connection %s: %s from %s: %s", self.config.id, path.name, remote_ip, result.warning)
            self._call_in_loop(self.status.warn, f"{path.name}: {result.warning}")
        if result.records:
            self._status_received(result.records)
        self._status("listening", f"{self._where()}; last file {path.name}")
        return ""

    def _status(self, state: str, detail: str = "") -> None:
        self._call_in_loop(self.status.set, state, detail)

    def _status_received(self, count: int) -> None:
        self._call_in_loop(self.status.received, count)

    def _call_in_loop(self, function, *args) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(function, *args)
                return
            except RuntimeError:  # the loop closed meanwhile
                pass
        function(*args)

    # --- server -----------------------------------------------------------
    def _where(self) -> str:
        return f"{'ftps' if self.settings['tls'] else 'ftp'}://{self.settings['bind']}:{self.settings['port']}"

    def _password_hash(self) -> str:
        if "password_hash" in self.settings:
            return self.settings["password_hash"]
        name = self.settings["password"][4:]
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} (option password) is not set.")
        return hash_password(os.environ[name])

    def _handler_class(self) -> type:
        settings = self.settings
        if settings["tls"]:
            classes = _tls_classes()
            if classes is None:
                raise ConfigError("tls=true needs the pyOpenSSL package (pip install pyopenssl).")
            base_handler, base_dtp = classes
        else:
            base_handler, base_dtp = FTPHandler, DTPHandler
        dtp = type("SpoolingDTPHandler", (_SpoolingDTPMixin, base_dtp), {})
        attributes: dict[str, Any] = {
            "collector": self,
            "dtp_handler": dtp,
            "abstracted_fs": _LimitedFS,
            "authorizer": _HashAuthorizer(settings["username"], self._password_hash(), str(self.home)),
            "max_file_size": settings["max_file_size"],
            "banner": "CallTally FTP ready.",
            "passive_ports": _parse_ports(settings["passive_ports"]) if settings.get("passive_ports") else None,
            "masquerade_address": settings.get("masquerade_address"),
        }
        if settings["tls"]:
            attributes.update(certfile=settings["certfile"], keyfile=settings["keyfile"],
                              tls_control_required=True, tls_data_required=True)
        return type("SpoolingFTPHandler", (_SpoolingFTPHandler, base_handler), attributes)

    def _make_server(self) -> FTPServer:
        self.home.mkdir(parents=True, exist_ok=True)
        handler = self._handler_class()
        try:
            return FTPServer((self.settings["bind"], self.settings["port"]), handler, ioloop=IOLoop())
        except OSError as exc:
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc  # pyftpdlib wraps it
            if cause.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {self.settings['port']} on {self.settings['bind']} is already in use; "
                                  "choose another with --option port=N.") from exc
            raise

    def _serve(self, server: FTPServer) -> None:
        try:
            while not self._stop.is_set():
                server.ioloop.loop(timeout=LOOP_TICK, blocking=False)
        finally:
            server.close_all()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self.status.set("starting", self._where())
        try:
            server = self._make_server()
        except Exception as exc:
            self.status.set("error", str(exc))
            raise
        self.server = server
        self.status.set("listening", f"{self._where()}; folder {self.home}")
        log.info("connection %s: FTP server on %s, folder %s", self.config.id, self._where(), self.home)
        worker = asyncio.ensure_future(asyncio.to_thread(self._serve, server))
        try:
            await asyncio.shield(worker)
        finally:
            self._stop.set()
            # Wait for the server thread to close every socket before returning (or re-raising).
            await asyncio.wait({worker})
            self.server = None
            self.status.set("stopped", "")

    @property
    def port(self) -> int | None:
        """The port actually bound (useful with port=0 in tests)."""
        return self.server.address[1] if self.server is not None else None

    async def test(self) -> str:
        if self.server is not None:
            return f"{self._where()} is being served by this collector."
        bind, port = self.settings["bind"], self.settings["port"]
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_STREAM)
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((bind, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {bind}:{port}: {exc.strerror} "
                              "(another program, or a running Recorder, holds it).") from None
        finally:
            probe.close()
        return f"{bind}:{port} can be bound; uploads will go to {self.home}."
