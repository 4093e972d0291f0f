"""Alcatel-Lucent OmniPCX Enterprise accounting tickets (fixed width)."""

from .driver import AlcatelOxeDriver

__all__ = ["AlcatelOxeDriver"]
