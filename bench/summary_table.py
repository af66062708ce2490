"""The one table that ends ``make bench`` (bench/README.md, "Summary"): every figure an issue
set a target for, and the key figures without one, each beside a reference measured in the
same run, with the ratio and whether the target is met.

Pure functions over the results the sections already return (``bench/run.py`` collects
them): nothing here measures, touches the database or imports Django. A section that did
not run (``--only``) or failed is a ``NotRun`` and shows as one "not run" row.

The ratio is always value ÷ reference: above 1 means more than the reference (postings/s,
milliseconds), so for a time lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import desk_bench
import floor_bench
import teller_bench

#: the issues' targets that no section module names as a constant
LEDGER_TPCB_TARGET = 0.3  # #4: postings/s at 4 clients, at least this share of TPC-B with 4 clients
HOT_TARGET = 0.5  # #4: hot account at 4 clients, at least this share of the uncontended 4 clients
READ_TARGET_MS = 2.0  # #4: balance read and 100-line statement page on 1,000,000 entries, median


@dataclass(frozen=True)
class NotRun:
    """A section that has no result: ``reason`` is "skipped (--only ledger)", "failed: …"."""

    reason: str


@dataclass(frozen=True)
class Row:
    issue: str
    figure: str
    value: str
    target: str = "-"
    reference: str = "-"  # what, and its value in the same run
    ratio: str = "-"  # value ÷ reference
    met: bool | None = None  # None: no target (or nothing measured)

    def cells(self) -> list[str]:
        met = "-" if self.met is None else ("yes" if self.met else "**NO**")
        return [self.issue, self.figure, self.value, self.target, self.reference, self.ratio, met]


def ratio(value: float, reference: float) -> str:
    """``value / reference`` as text: "0.04x", "8.2x", "108x"; "-" when there is nothing to divide by."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return "-"
    x = value / reference
    if x >= 100:
        return f"{x:,.0f}x"
    if x >= 1:
        return f"{x:.1f}x"
    if x >= 0.1:
        return f"{x:.2f}x"
    return f"{x:.2g}x"


def _clients(n: int) -> str:
    return f"{n} client{'s' if n != 1 else ''}"


def _queries(counts: list[int]) -> str:
    lo, hi = min(counts), max(counts)
    return f"{lo} queries, constant" if lo == hi else f"{lo}-{hi} queries, **not constant**"


# --- one builder per section: its result -> rows ---------------------------------------------------

def platform_rows(p) -> list[Row]:
    """``p``: run.PlatformResults (TPC-B with 1 client and the platform operations)."""
    ref = f"pgbench TPC-B, 1 client: {p.tps:,.0f} tps"
    return [Row("platform", name, f"{ops:,.0f} ops/s", reference=ref, ratio=ratio(ops, p.tps))
            for name, ops, _note in p.ops]


def ledger_rows(r) -> list[Row]:
    """``r``: run.LedgerResults."""
    rows = []
    top = max(r.runs)
    for n, run in r.runs.items():
        share = run.ops_per_s / r.tpcb[n]
        rows.append(Row("#4", f"postings/s (`transfer_post`), {_clients(n)}", f"{run.ops_per_s:,.0f}/s",
                        target=f"≥ {LEDGER_TPCB_TARGET:g}x" if n == top else "-",
                        reference=f"pgbench TPC-B, {_clients(n)}: {r.tpcb[n]:,.0f} tps",
                        ratio=ratio(run.ops_per_s, r.tpcb[n]),
                        met=share >= LEDGER_TPCB_TARGET if n == top else None))
    hot, free = r.hot[top], r.runs[top]
    rows.append(Row("#4", f"hot account: postings/s, {_clients(top)} all crediting one account",
                    f"{hot.ops_per_s:,.0f}/s", target=f"≥ {HOT_TARGET:g}x",
                    reference=f"uncontended, {_clients(top)}: {free.ops_per_s:,.0f}/s",
                    ratio=ratio(hot.ops_per_s, free.ops_per_s), met=hot.ops_per_s / free.ops_per_s >= HOT_TARGET))
    rd = r.reads
    summing = f"balance by summing the entries: {rd.summing.median_ms:.2f} ms"
    entries = f"{r.big.entries:,} entries"
    for label, lat in ((f"balance read, {entries}, median", rd.balance),
                       (f"statement page (100 lines), {entries}, median", rd.statement)):
        rows.append(Row("#4", label, f"{lat.median_ms:.2f} ms", target=f"< {READ_TARGET_MS:g} ms",
                        reference=summing, ratio=ratio(lat.median_ms, rd.summing.median_ms),
                        met=lat.median_ms < READ_TARGET_MS))
    rows.append(Row("#4", f"balance by summing the entries (hordak-style), {entries}, median",
                    f"{rd.summing.median_ms:.2f} ms", reference=f"`SELECT 1` round trip: {rd.select1.median_ms:.2f} ms",
                    ratio=ratio(rd.summing.median_ms, rd.select1.median_ms)))
    return rows


def teller_rows(t) -> list[Row]:
    """``t``: teller_bench.TellerResults (one account, as the issue asks)."""
    goal = teller_bench.TARGET_MS
    bare = t.bare.median_ms
    rows = []
    for label, s in ((f"cash deposit, HTTP API, {t.entries:,}-entry ledger", t.api),
                     (f"cash deposit, teller form, {t.entries:,}-entry ledger", t.form)):
        rows.append(Row("#5", label, f"{s.median_ms:.2f} ms median, p95 {s.p95_ms:.2f} ms; {_queries(s.queries)}",
                        target=f"< {goal:g} ms median, constant queries",
                        reference=f"bare `ledger_post`: {bare:.2f} ms median", ratio=ratio(s.median_ms, bare),
                        met=s.median_ms < goal and s.constant))
    return rows


def desk_rows(r) -> list[Row]:
    """``r``: desk_bench.DeskResults."""
    rows = []
    for label, by_size in r.pages.items():
        small, large = by_size[r.small], by_size[r.large]
        rows.append(Row("#6", f"{label}, {r.customers:,} customers, {r.large:,} requests",
                        f"{large.median_ms:.2f} ms median, p95 {large.p95_ms:.2f} ms; {large.queries} queries",
                        target=f"< {desk_bench.TARGET_MS:g} ms median, constant queries",
                        reference=f"same page at {r.small:,} requests: {small.median_ms:.2f} ms, {small.queries} queries",
                        ratio=ratio(large.median_ms, small.median_ms), met=r.met(label)))
    return rows


def floor_rows(f) -> list[Row]:
    """``f``: what floor_bench.measure_floor returns ({"sizes": {"small": …, "full": …}, …})."""
    goal = floor_bench.TARGET_MS
    small, full = f["sizes"]["small"], f["sizes"]["full"]
    rows = []
    for page, name in (("board", "branch board"), ("inbox", "approval inbox")):
        s, g = small[page], full[page]
        rows.append(Row("#8", f"{name} (`{g.path}`), a full day",
                        f"{g.median_ms:.1f} ms median, p95 {g.p95_ms:.1f} ms; {g.queries} queries",
                        target=f"< {goal:g} ms median, constant queries",
                        reference=f"same page, a quarter of the day: {s.median_ms:.1f} ms, {s.queries} queries",
                        ratio=ratio(g.median_ms, s.median_ms), met=g.median_ms < goal and g.queries == s.queries))
    return rows


def lobby_rows(r) -> list[Row]:
    """``r``: lobby_bench.LobbyResults."""
    return [
        Row("#8", f"lobby: {r.counters} counters calling at once, tickets served twice",
            f"{r.served_twice} of {r.tickets:,}; {r.done_in_db:,} served, {r.left} left, {len(r.errors)} errors",
            target="none twice, every ticket served", met=r.served_twice == 0 and r.all_served and not r.errors),
        Row("#8", f"lobby: full cycles (call-next + done)/s, {r.counters} counters", f"{r.calls_per_s:,.0f}/s",
            reference=f"`ticket_take`, one thread: {r.take_per_s:,.0f}/s", ratio=ratio(r.calls_per_s, r.take_per_s)),
    ]


def load_rows(r) -> list[Row]:
    """``r``: load_bench.LoadResults."""
    c, h = r.cash, r.healthz
    who = f"{r.clients} tellers over HTTP ({r.workers} gunicorn workers)"
    return [
        Row("#10", f"cash deposits + withdrawals, {who}: throughput", f"{c.ops_per_s:,.0f} ops/s",
            reference=f"`GET /healthz`, {_clients(r.clients)}: {h.ops_per_s:,.0f} req/s",
            ratio=ratio(c.ops_per_s, h.ops_per_s)),
        Row("#10", f"cash deposits + withdrawals, {who}: p95 latency", f"{c.pct(0.95):.1f} ms",
            reference=f"`GET /healthz` p95, {_clients(r.clients)}: {h.pct(0.95):.1f} ms",
            ratio=ratio(c.pct(0.95), h.pct(0.95))),
    ]


#: the table's sections in order: (key, issue, what the rows are, builder)
SECTIONS: list[tuple[str, str, str, Callable[[object], list[Row]]]] = [
    ("platform", "platform", "platform: audit write, approval round trip, feed page", platform_rows),
    ("ledger", "#4", "ledger: postings/s, hot account, balance read, statement page", ledger_rows),
    ("teller", "#5", "cash window: deposit via HTTP API and teller form", teller_rows),
    ("desk", "#6", "service desk: queue pages, customer at a glance", desk_rows),
    ("floor", "#8", "floor: branch board, approval inbox", floor_rows),
    ("lobby", "#8", "lobby: 20 counters, no ticket served twice", lobby_rows),
    ("load", "#10", "load: K tellers over HTTP", load_rows),
]


def summary_rows(results: dict[str, object]) -> list[Row]:
    """One row per figure of every section; a section missing from ``results``, a ``NotRun``,
    or one whose rows cannot be built, as one "not run" row."""
    rows = []
    for key, issue, what, build in SECTIONS:
        result = results.get(key)
        if result is None or isinstance(result, NotRun):
            reason = result.reason if isinstance(result, NotRun) else "skipped"
            rows.append(Row(issue, what, f"not run ({reason})"))
            continue
        try:
            rows += build(result)
        except Exception as exc:  # an incomplete result must not cost the rest of the table
            rows.append(Row(issue, what, f"not run (table: {type(exc).__name__}: {exc})"))
    return rows


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_summary(rows: list[Row], caption: str = "") -> list[str]:
    """The "Summary" subsection: a caption line, then the Markdown table."""
    lines = ["### Summary", ""]
    if caption:
        lines += [caption, ""]
    lines += ["| issue | figure | value | target | reference (same run) | ratio | met? |",
              "|---|---|---:|---|---|---:|---|"]
    lines += ["| " + " | ".join(_cell(c) for c in row.cells()) + " |" for row in rows]
    missed = sum(1 for row in rows if row.met is False)
    targets = sum(1 for row in rows if row.met is not None)
    lines += ["", f"Targets met: {targets - missed} of {targets} measured"
              + (f"; {missed} **not met**." if missed else ".")]
    not_run = [row.figure for row in rows if row.value.startswith("not run")]
    if not_run:
        lines[-1] += " Not run: " + "; ".join(not_run) + "."
    return lines + [""]
