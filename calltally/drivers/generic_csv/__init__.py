"""CSV call records read through a column mapping configured per site."""

from .driver import GenericCsvDriver

__all__ = ["GenericCsvDriver"]
