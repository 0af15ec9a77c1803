"""Import for its side effect: the worker server's preload (`rnnviz.worker_processes.PRELOAD`).

Importing this module loads the engine and reads the compiled kernels of every architecture
(`rnnviz.engine_warm_up.warm_up`) in this process, no Qt. The worker server preloads it, since it
starts before it knows which architectures its sweeps will train; a worker whose process has
warmed none imports it (`rnnviz.worker_processes.load_engine`)."""

from rnnviz.engine_warm_up import warm_up

warm_up()
