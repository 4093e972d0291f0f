"""Collectors: every way a PBX delivers raw records, one sub-package per kind.

The Recorder (``calltally recorder``) starts one collector per enabled
connection; each hands what it receives to the spool.
"""

from __future__ import annotations

import importlib

# "<kind>": "<package>:<class>". Adding a kind means adding a folder and a line here.
COLLECTOR_PATHS = {
    "ftp": "calltally.collectors.ftp:FtpCollector",
    "sftp-pull": "calltally.collectors.sftp_pull:SftpPullCollector",
    "tcp-listen": "calltally.collectors.tcp_listen:TcpListenCollector",
    "tcp-connect": "calltally.collectors.tcp_connect:TcpConnectCollector",
    "serial": "calltally.collectors.serial:SerialCollector",
    "folder": "calltally.collectors.folder:FolderCollector",
    "http-push": "calltally.collectors.http_push:HttpPushCollector",
}


def collector_class(kind: str):
    try:
        path = COLLECTOR_PATHS[kind]
    except KeyError:
        raise ValueError(f"unknown connection kind {kind!r}; use one of {', '.join(COLLECTOR_PATHS)}") from None
    module_name, class_name = path.split(":")
    return getattr(importlib.import_module(module_name), class_name)
