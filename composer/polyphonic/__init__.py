"""The polyphonic piano-roll benchmark family (JSB Chorales, Nottingham, ...): benchmark files and their
encoding (``data``), the model (``model``), exact frame-level scoring (``score``), the repeat cache
(``repeat_cache``) and training hooks (``train``)."""
