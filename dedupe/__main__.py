"""``python -m dedupe`` runs the command-line interface."""

from dedupe.cli import main

main(prog_name="dedupe")
