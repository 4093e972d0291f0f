"""Avaya IP Office SMDR."""

from .driver import AvayaIpoDriver

__all__ = ["AvayaIpoDriver"]
