"""3CX CDR service output (file or TCP)."""

from .driver import ThreeCxDriver

__all__ = ["ThreeCxDriver"]
