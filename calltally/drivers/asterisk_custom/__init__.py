"""Asterisk cdr_custom / cdr_adaptive_odbc / FreePBX CDR table exports."""

from .driver import AsteriskCustomDriver

__all__ = ["AsteriskCustomDriver"]
