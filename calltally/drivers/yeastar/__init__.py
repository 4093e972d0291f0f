"""Yeastar S/P/K2/Cloud CDR CSV."""

from .driver import YeastarDriver

__all__ = ["YeastarDriver"]
