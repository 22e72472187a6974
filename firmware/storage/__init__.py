"""Putting captures on disk: atomic writes, names that sort by time, free-space checks."""
