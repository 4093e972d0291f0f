"""Panasonic KX-TDA/KX-TDE/KX-NS/KX-NCP SMDR."""

from .driver import PanasonicDriver

__all__ = ["PanasonicDriver"]
