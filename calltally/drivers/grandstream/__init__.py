"""Grandstream UCM6xxx CDR CSV."""

from .driver import GrandstreamDriver

__all__ = ["GrandstreamDriver"]
