"""gunicorn settings used by ``make serve``: tell prometheus-client when a worker process
exits, so its live gauges are dropped from the multi-process metrics."""


def child_exit(server, worker):
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# The access log names the path but never the query string: a search (?q=<customer name>)
# must not land in a log. The request id ties the line to the app's JSON log line.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
