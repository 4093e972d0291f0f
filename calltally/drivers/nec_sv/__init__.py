"""NEC UNIVERGE SV8500/SV9500 MAT SMDR and SV8100/SV9100/SL page-report SMDR."""

from .driver import NecSvDriver

__all__ = ["NecSvDriver"]
