"""Cisco IOS voice gateway / CallManager Express syslog CDR."""

from .driver import CiscoCmeDriver

__all__ = ["CiscoCmeDriver"]
