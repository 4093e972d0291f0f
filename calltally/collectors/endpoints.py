"""Where a PBX must send its records for one connection: the lines the connection page and the setup
wizard's last page show (host, port, folder, login; the http-push address).

The host is the one the PBX reaches this machine by: the address the connection listens on when it
names one, else the first host name CallTally is configured to answer to (``CALLTALLY_ALLOWED_HOSTS``),
else the name the browser used when it is not this machine's loopback, else this machine's address on
its network.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]", "testserver"}
ANY_ADDRESS = {"0.0.0.0", "::", "", "*"}


def _usable(host: str) -> bool:
    host = host.strip()
    return bool(host) and host not in LOOPBACK_NAMES and not host.startswith(".") and "*" not in host


def machine_address() -> str:
    """This machine's address on its network (a UDP socket's own end: nothing is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
        return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
    finally:
        probe.close()


def server_host(request=None, bind: str = "") -> str:
    """The host name or address a PBX uses to reach this machine (see the module's doc)."""
    if bind and bind not in ANY_ADDRESS and not _is_loopback(bind):
        return bind
    for host in getattr(settings, "ALLOWED_HOSTS", []):
        if _usable(host):
            return host
    if request is not None:
        host = request.get_host()
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # name:port, or an IPv6 literal
        if _usable(name):
            return name
    return machine_address()


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address in LOOPBACK_NAMES


def push_url(request, connection_id: int) -> str:
    """The http-push address, as the browser reached this server (scheme, host and port)."""
    from django.urls import reverse

    path = reverse("http_push", args=[connection_id])
    return request.build_absolute_uri(path) if request is not None else path


def where_to_send(kind: str, parameters: dict, connection_id: int | None, request=None,
                  secrets: dict | None = None) -> dict:
    """What to enter in the PBX: ``lines`` (label, value) and ``warnings``. ``secrets`` holds secrets in
    clear that may be shown this once (a password or token just typed or made), by option name."""
    parameters = parameters or {}
    secrets = secrets or {}
    lines: list[tuple[str, str]] = []
    warnings: list[str] = []
    bind = str(parameters.get("bind") or "")
    if kind in ("ftp", "tcp-listen"):
        host = server_host(request, bind)
        lines += [("Host", host), ("Port", str(parameters.get("port", "")))]
        if _is_loopback(bind or "127.0.0.1"):
            warnings.append(f"The connection listens on {bind or '127.0.0.1'} only: a PBX on another machine "
                            "cannot reach it. Set its bind option to 0.0.0.0 (or this machine's address).")
        if str(parameters.get("port")) == "0":
            warnings.append("Port 0 takes any free port each time the Recorder starts: give a fixed port.")
    if kind == "ftp":
        lines += [("Protocol", "FTPS (explicit, AUTH TLS)" if parameters.get("tls") else "FTP, passive mode"),
                  ("Folder", "/ (the login's own folder; any file name)"),
                  ("User", str(parameters.get("username", "")))]
        lines.append(("Password", secrets["password"] if secrets.get("password") else
                      "(the one given to this connection: stored hashed, it cannot be shown again)"))
        if parameters.get("passive_ports"):
            lines.append(("Passive data ports", str(parameters["passive_ports"])))
    elif kind == "tcp-listen":
        lines.append(("Records", "one per line, over a TCP connection the PBX opens"))
    elif kind == "http-push":
        lines += [("Address", push_url(request, connection_id) if connection_id else "(given once saved)"),
                  ("Method", "POST, one record per line in the body"),
                  ("Header", "Authorization: Bearer " + (secrets.get("token") or "<the token>"))]
        if not secrets.get("token"):
            warnings.append("The token was shown once, when it was made; make a new one if it was lost.")
    elif kind in ("sftp-pull", "tcp-connect"):
        lines += [("CallTally connects to", f"{parameters.get('host', '')}:{parameters.get('port', '')}"),
                  ("From", server_host(request))]
        if kind == "sftp-pull":
            lines += [("User", str(parameters.get("username", ""))),
                      ("Remote folder", str(parameters.get("remote_path", ".")))]
        warnings.append("The PBX (or its file server) must accept connections from this machine.")
    elif kind == "folder":
        lines.append(("Folder on this machine", str(parameters.get("path", ""))))
    elif kind == "serial":
        lines.append(("Serial device", str(parameters.get("device", ""))))
    return {"lines": lines, "warnings": warnings}
