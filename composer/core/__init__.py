"""What every model family shares: the model-file format and its registry of kinds (``modelfile``), the one
training loop (``training``) with its optimizer and schedules (``optim``), recipes read from JSON
(``config``), multi-process training (``distributed``), atomic writes (``atomic``), corpus folders and
their splits (``corpus_files``), the recurrent step on PyTorch's fused cells (``lstm_step``, the harmony
sampler's) and in numpy (``array_step``, the melody sampler's), the token draw the samplers share
(``sampling``) and the folder of generated pieces with its manifest (``output_folder``)."""
