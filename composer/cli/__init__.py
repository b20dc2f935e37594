"""The ``composer`` command: ``main`` builds the parser and dispatches; one module per model family adds its
subcommands (``melody``, ``harmony``, ``benchmark``), ``models`` handles any model file (info, strip), and
``common`` holds the argument types and the training printer they share. Imports stay light: each handler
imports the heavy stack (PyTorch) only when it runs."""
