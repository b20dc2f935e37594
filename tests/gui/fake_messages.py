"""A stand-in for the window's message bar and error boxes (``gui.messages.Messages``) that records what the
parts under test told the user."""

from __future__ import annotations


class FakeMessages:
    def __init__(self) -> None:
        self.last_message = ""
        self.errors: list[tuple[str, str]] = []

    def show_message(self, text: str) -> None:
        self.last_message = text

    def show_error(self, title: str, text: str) -> None:
        self.last_message = text
        self.errors.append((title, text))
