"""Importing this module loads the engine's compiled kernels of every architecture
(`rnnviz.engine_warm_up.warm_up`), as a memory-horizon sweep's workers use them (no Qt): the
worker server preloads it (`rnnviz.worker_processes.PRELOAD`), since it starts before it knows
which architectures its sweeps will train, and a worker whose process has loaded none imports it
(`rnnviz.worker_processes.load_engine`)."""

from rnnviz.engine_warm_up import warm_up

warm_up()
