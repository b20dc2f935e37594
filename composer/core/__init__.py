"""What every model family shares: the model-file format and its registry of kinds (``modelfile``), the one
training loop (``training``) with its optimizer and schedules (``optim``), recipes read from JSON
(``config``), multi-process training (``distributed``), atomic writes (``atomic``), corpus folders and
their splits (``corpus_files``), the fused recurrent step and the token draw the samplers share (``lstm_step``,
``sampling``) and the folder of generated pieces with its manifest (``output_folder``)."""
