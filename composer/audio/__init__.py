"""Audio: Composer's pieces as stereo sound and WAV files, for the command line and the app alike.

- :mod:`composer.audio.render`: the one entry point, :func:`render` and :func:`export_wav`. A General MIDI
  SoundFont played through FluidSynth (:mod:`composer.audio.soundfont`), one instrument per voice; the
  additive synth (:mod:`composer.audio.additive`) is the fallback when no SoundFont can be loaded.
- :mod:`composer.audio.programs`: ``VOICE=PROGRAM`` choices of instrument.
- :mod:`composer.audio.limits`: the longest audio rendered (refused before anything is allocated).
- :mod:`composer.audio.timemap`, :mod:`composer.audio.wav`: ticks to seconds, and WAV files.

Library code: nothing here imports Qt. Importing this package loads numpy, so ``composer --help`` does not.
"""

from composer.audio.limits import MAX_SECONDS, AudioTooLongError
from composer.audio.render import ADDITIVE, AUTO, SOUNDFONT, Rendering, export_wav, render
from composer.audio.soundfont import SoundFontError, default_soundfont_path
from composer.audio.wav import SAMPLE_RATE, write_wav

__all__ = ["ADDITIVE", "AUTO", "MAX_SECONDS", "SAMPLE_RATE", "SOUNDFONT", "AudioTooLongError", "Rendering",
           "SoundFontError", "default_soundfont_path", "export_wav", "render", "write_wav"]
