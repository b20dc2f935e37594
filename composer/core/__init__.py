"""What every model family shares: the model-file format and its registry of kinds (``modelfile``), the one
training loop (``training``) with its optimizer and schedules (``optim``), recipes read from JSON
(``config``), multi-process training (``distributed``), atomic writes (``atomic``), corpus folders and
their splits (``corpus_files``) and the fused recurrent step used by the samplers (``lstm_step``)."""
