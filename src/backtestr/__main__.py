"""``python -m backtestr`` runs the command line."""

from backtestr.cli import main

main()
