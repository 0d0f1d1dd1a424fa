"""Imports every command module so that each registers its commands on the root group."""

# One line per command module; keep sorted.
from backtestr.cli import app, data, demo, ui  # noqa: F401
