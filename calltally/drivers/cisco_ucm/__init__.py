"""Cisco Unified Communications Manager CDR flat files."""

from .driver import CiscoUcmDriver

__all__ = ["CiscoUcmDriver"]
