"""Composer: MIDI in, stacked-LSTM music generation, MIDI out."""

__version__ = "0.1.0"
