"""The melody family: an event language model (``SHIFT``/``PITCH``/``DUR`` tokens) over one or more voices.
Its encoding, corpus, model, sampler, generation jobs, chord conditioning and training hooks."""
