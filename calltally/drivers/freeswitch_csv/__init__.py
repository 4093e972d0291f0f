"""FreeSWITCH mod_cdr_csv."""

from .driver import FreeswitchCsvDriver

__all__ = ["FreeswitchCsvDriver"]
