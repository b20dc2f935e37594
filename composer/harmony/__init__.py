"""The 4-part harmony family: the SATB grid of 16th-note frames (``grid``), the bidirectional-encoder
decoder network (``model``), harmonize / regenerate / chorale jobs (``inference``), its evaluation against
real chorales (``evaluate``) and training hooks (``train``)."""
