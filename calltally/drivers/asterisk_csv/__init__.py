"""Asterisk cdr_csv Master.csv."""

from .driver import AsteriskCsvDriver

__all__ = ["AsteriskCsvDriver"]
