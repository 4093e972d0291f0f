"""Mitel MiVoice Business / 3300 ICP SMDR."""

from .driver import MitelDriver

__all__ = ["MitelDriver"]
