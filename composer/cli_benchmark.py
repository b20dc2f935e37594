"""Command-line subcommands: benchmark (published polyphonic benchmarks: JSB Chorales, Nottingham)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to the ``composer`` parser."""
