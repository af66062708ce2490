"""The summary table that ends ``make bench`` (bench/summary_table.py): result objects in,
Markdown rows out. Made-up figures only; nothing is measured or timed here."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import desk_bench  # noqa: E402  (bench/ is not a package: its modules import each other by name)
import ledger_bench  # noqa: E402
import load_bench  # noqa: E402
import lobby_bench  # noqa: E402
import run as bench_run  # noqa: E402
import summary_table as st  # noqa: E402
import teller_bench  # noqa: E402
from floor_bench import PageTiming as FloorPage  # noqa: E402


def _run(clients, ops_per_s):
    return ledger_bench.RunResult(clients=clients, ops_per_s=ops_per_s, ops=int(ops_per_s * 8), errors=0,
                                  first_error="", client_cpu=0.4, machine_cpu=1.2)


def _latency(ms):
    return ledger_bench.Latency(median_ms=ms, p95_ms=ms * 1.2, calls=500)


def _teller_series(label, ms, queries):
    return teller_bench.Series(label=label, samples_ms=[ms] * 5, queries=queries)


def _load_series(label, ok, samples_ms, seconds=20.0):
    series = load_bench.Series(label=label, samples_ms=samples_ms, seconds=seconds)
    series.statuses[201] = ok
    return series


def results():
    """One run's results, every part measured: the ledger at 4 clients misses its target."""
    ledger = bench_run.LedgerResults(
        tpcb={1: 3329.0, 2: 4330.0, 4: 5196.0},
        runs={1: _run(1, 269.0), 2: _run(2, 228.0), 4: _run(4, 197.0)},
        hot={1: _run(1, 122.0), 4: _run(4, 132.0)},
        branches4=_run(4, 186.0), threads4=_run(4, 104.0), hot_threads4=_run(4, 60.0), statements=7,
        big=ledger_bench.BigLedger(hot=None, entries=1_023_786, hot_entries=99_801, load_seconds=17.3,
                                   verify_seconds=2.2, verify_report=None, t0=None),
        reads=ledger_bench.Reads(select1=_latency(0.04), balance=_latency(0.30), statement=_latency(1.20),
                                 summing=_latency(32.66), statement_lines=100, statement_range=(None, None),
                                 balance_value=0),
        seconds=8, profile=None)
    teller = teller_bench.TellerResults(
        api=_teller_series("api", 20.65, [28] * 3), form=_teller_series("form", 26.84, [31] * 3),
        bare=_teller_series("bare", 2.68, [4] * 3), spread_api=None, spread_form=None, window=None,
        entries=1_000_002, account_entries=99_801, ops_before=40, ops_after=640, slope_us={}, spread_customers=200,
        spread_ops_max=5, requests=300, spread_requests=300, seconds=65.0, profiles=[], hot_profile=None,
        ops_at_hot_profile=0, cpu={})
    desk = desk_bench.DeskResults(customers=100_000, small=20_000, large=200_000, requests=100)
    desk.pages = {
        "queue page (open, first 50)": {20_000: desk_bench.PageTiming(29.85, 31.0, 6),
                                        200_000: desk_bench.PageTiming(32.96, 34.15, 6)},
        "queue page, mine": {20_000: desk_bench.PageTiming(31.36, 33.0, 6),
                             200_000: desk_bench.PageTiming(52.05, 54.05, 6)},
        "customer at a glance (desk)": {20_000: desk_bench.PageTiming(11.62, 12.0, 12),
                                        200_000: desk_bench.PageTiming(13.00, 14.13, 13)},
    }
    floor = {"sizes": {
        "small": {"counts": {}, "board": FloorPage("/floor/board/", 17.5, 19.5, 15, 9578),
                  "inbox": FloorPage("/floor/inbox/", 38.2, 40.9, 20, 80725)},
        "full": {"counts": {}, "board": FloorPage("/floor/board/", 21.6, 25.1, 15, 9582),
                 "inbox": FloorPage("/floor/inbox/", 38.1, 39.5, 20, 80727)},
    }, "requests": 60, "seconds": 41.0}
    lobby = lobby_bench.LobbyResults(tickets=2000, counters=20, take_per_s=536.0, wall_s=17.5, calls=2000,
                                     served_ids=list(range(2000)), done_in_db=2000, left=0)
    load = load_bench.LoadResults(
        clients=8, workers=4, seconds=20.0, entries=1_000_000, accounts=1000,
        healthz=_load_series("healthz", 2980, [50.0] * 95 + [80.0] * 5),
        cash=_load_series("cash", 260, [600.0] * 95 + [780.0] * 5),
        single=_load_series("single", 110, [85.0] * 10, seconds=10.0),
        loadavg=(2.0, 2.5), verify_problems=0, verify_entries=1_000_880)
    platform = bench_run.PlatformResults(tps=3304.0, ops=[("audit_event_write (one event per transaction)", 1567.0, ""),
                                                          ("event feed page (events_feed, limit 100)", 116.0, "")],
                                         seconds=10)
    return {"platform": platform, "ledger": ledger, "teller": teller, "desk": desk, "floor": floor,
            "lobby": lobby, "load": load}


def by_figure(rows):
    return {row.figure: row for row in rows}


def test_ratio_is_value_over_reference():
    assert st.ratio(197.0, 5196.0) == "0.038x"
    assert st.ratio(132.0, 197.0) == "0.67x"
    assert st.ratio(20.65, 2.68) == "7.7x"
    assert st.ratio(32.66, 0.30) == "109x"
    assert st.ratio(1.0, 0.0) == "-"
    assert st.ratio(float("nan"), 1.0) == "-"


def test_every_part_gives_its_rows_with_targets_and_references():
    rows = by_figure(st.summary_rows(results()))

    four = rows["postings/s (`transfer_post`), 4 clients"]
    assert (four.issue, four.value, four.target, four.ratio, four.met) == ("#4", "197/s", "≥ 0.3x", "0.038x", False)
    assert four.reference == "pgbench TPC-B, 4 clients: 5,196 tps"
    one = rows["postings/s (`transfer_post`), 1 client"]
    assert (one.target, one.met) == ("-", None)  # the target is set at 4 clients only
    hot = rows["hot account: postings/s, 4 clients all crediting one account"]
    assert (hot.ratio, hot.met) == ("0.67x", True)
    read = rows["balance read, 1,023,786 entries, median"]
    assert read.reference == "balance by summing the entries: 32.66 ms"
    assert (read.target, read.met) == ("< 2 ms", True)

    api = rows["cash deposit, HTTP API, 1,000,002-entry ledger"]
    assert api.value == "20.65 ms median, p95 20.65 ms; 28 queries, constant"
    assert (api.reference, api.ratio, api.met) == ("bare `ledger_post`: 2.68 ms median", "7.7x", True)

    assert rows["queue page (open, first 50), 100,000 customers, 200,000 requests"].met is True
    assert rows["queue page, mine, 100,000 customers, 200,000 requests"].met is False  # 52 ms
    assert rows["customer at a glance (desk), 100,000 customers, 200,000 requests"].met is False  # 12 -> 13 queries

    board = rows["branch board (`/floor/board/`), a full day"]
    assert (board.ratio, board.met) == ("1.2x", True)
    assert rows["lobby: 20 counters calling at once, tickets served twice"].met is True

    throughput = rows["cash deposits + withdrawals, 8 tellers over HTTP (4 gunicorn workers): throughput"]
    assert (throughput.value, throughput.ratio, throughput.met) == ("13 ops/s", "0.087x", None)
    assert throughput.reference == "`GET /healthz`, 8 clients: 149 req/s"
    audit = rows["audit_event_write (one event per transaction)"]
    assert (audit.issue, audit.reference, audit.ratio, audit.met) == (
        "platform", "pgbench TPC-B, 1 client: 3,304 tps", "0.47x", None)


def test_query_count_that_moves_misses_the_target_even_when_fast():
    r = results()
    r["teller"].form = _teller_series("form", 10.0, [31, 31, 33])
    form = by_figure(st.summary_rows(r))["cash deposit, teller form, 1,000,002-entry ledger"]
    assert form.value.endswith("31-33 queries, **not constant**")
    assert form.met is False


def test_a_served_twice_ticket_misses_the_lobby_target():
    r = results()
    r["lobby"].served_ids = [*range(1999), 5]
    row = by_figure(st.summary_rows(r))["lobby: 20 counters calling at once, tickets served twice"]
    assert row.value.startswith("1 of 2,000")
    assert row.met is False


def test_parts_skipped_or_failed_are_one_not_run_row_each():
    r = {"teller": results()["teller"], "ledger": st.NotRun("failed: SystemExit: ledger_verify found problems"),
         "load": st.NotRun("skipped: --only teller")}
    rows = st.summary_rows(r)

    assert [row.issue for row in rows] == ["platform", "#4", "#5", "#5", "#6", "#8", "#8", "#10"]
    ledger = rows[1]
    assert ledger.value == "not run (failed: SystemExit: ledger_verify found problems)"
    assert (ledger.target, ledger.reference, ledger.ratio, ledger.met) == ("-", "-", "-", None)
    assert rows[-1].value == "not run (skipped: --only teller)"
    assert rows[0].value == "not run (skipped)"  # a part with no entry at all


def test_a_result_the_rows_cannot_be_built_from_is_not_run_not_a_crash():
    r = results()
    del r["floor"]["sizes"]["full"]
    rows = [row for row in st.summary_rows(r) if row.issue == "#8"]
    assert rows[0].value == "not run (table: KeyError: 'full')"
    assert rows[1].figure.startswith("lobby:")  # the next part still has its rows


def test_render_markdown():
    rows = [st.Row("#4", "postings/s, 4 clients", "197/s", "≥ 0.3x", "TPC-B: 5,196 tps", "0.038x", False),
            st.Row("#8", "a | b", "1 ms", "< 50 ms", "small: 1 ms", "1.0x", True),
            st.Row("platform", "feed page", "116 ops/s", reference="TPC-B", ratio="0.04x"),
            st.Row("#10", "load", "not run (skipped: --only ledger)")]
    lines = st.render_summary(rows, caption="Run of today.")

    assert lines[:4] == ["### Summary", "", "Run of today.", ""]
    assert lines[4] == "| issue | figure | value | target | reference (same run) | ratio | met? |"
    assert lines[5] == "|---|---|---:|---|---|---:|---|"
    assert lines[6] == "| #4 | postings/s, 4 clients | 197/s | ≥ 0.3x | TPC-B: 5,196 tps | 0.038x | **NO** |"
    assert lines[7] == "| #8 | a \\| b | 1 ms | < 50 ms | small: 1 ms | 1.0x | yes |"
    assert lines[8] == "| platform | feed page | 116 ops/s | - | TPC-B | 0.04x | - |"
    assert lines[9] == "| #10 | load | not run (skipped: --only ledger) | - | - | - | - |"
    assert lines[11] == "Targets met: 1 of 2 measured; 1 **not met**. Not run: load."


@pytest.mark.parametrize("key", ["platform", "ledger", "teller", "desk", "floor", "lobby", "load"])
def test_each_part_alone_renders_with_the_others_not_run(key):
    lines = st.render_summary(st.summary_rows({key: results()[key]}))
    table = [line for line in lines if line.startswith("| ")]
    assert all(line.count(" | ") == 6 for line in table)
    assert sum("not run" in line for line in table) == len(st.SECTIONS) - 1
