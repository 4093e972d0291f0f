"""Choices used by connections."""

from django.db import models


class ConnectionKind(models.TextChoices):
    FTP = "ftp", "FTP server (the PBX pushes files)"
    SFTP_PULL = "sftp-pull", "SFTP pull"
    TCP_LISTEN = "tcp-listen", "TCP listener (the PBX connects)"
    TCP_CONNECT = "tcp-connect", "TCP client (CallTally connects)"
    SERIAL = "serial", "Serial port"
    FOLDER = "folder", "Watched folder"
    HTTP_PUSH = "http-push", "HTTP push"
