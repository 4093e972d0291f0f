"""CallTally: self-hosted call accounting."""

__version__ = "0.1.0"
