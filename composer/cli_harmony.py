"""Command-line subcommands: harmonize, evaluate-harmony and regenerate (4-part SATB)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``composer`` parser."""
