"""Microsoft Teams PSTN call records / PSTN usage report CSV."""

from .driver import TeamsDriver

__all__ = ["TeamsDriver"]
