"""The pages of this app (calltally.webkit views)."""
