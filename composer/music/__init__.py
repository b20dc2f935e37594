"""Music itself, with no model in it: the note data model and its transforms (``notes``), MIDI in and out
(``midi_io``, the only module that reads or writes MIDI), keys and scales (``keys``), key estimation
(``analysis``) and chord symbols and labelling (``chords``). Nothing here imports PyTorch."""
