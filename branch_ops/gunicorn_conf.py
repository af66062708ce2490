"""gunicorn settings used by ``make serve``: tell prometheus-client when a worker process
exits, so its live gauges are dropped from the multi-process metrics."""


def child_exit(server, worker):
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
