"""Imports every command module so that each registers its commands on the root group."""

# One line per command module; keep sorted.
import backtestr.cli.app
import backtestr.cli.data
import backtestr.cli.demo
import backtestr.cli.optimize
import backtestr.cli.run
import backtestr.cli.settings
import backtestr.cli.telemetry
import backtestr.cli.ui
import backtestr.cli.update
import backtestr.cli.version  # noqa: F401
