"""Avaya Communication Manager (Definity, S8xxx, Aura) call detail records."""

from .driver import AvayaCmDriver

__all__ = ["AvayaCmDriver"]
