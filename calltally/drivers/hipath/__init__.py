"""Siemens/Unify HiPath 1100/1500/3000 call-charge output (fixed width)."""

from .driver import HiPathDriver

__all__ = ["HiPathDriver"]
