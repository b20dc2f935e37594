"""Composer's Qt desktop app. It imports :mod:`composer` for all music logic; ``composer`` never imports Qt."""
