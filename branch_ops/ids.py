"""Identifiers of rows that are written many times a second.

A row's ``public_id`` is what the outside world sees (STYLE.md: never a raw primary key).
For tables that grow with every posting — ledger transactions, holds, audit events, outbox
events, webhook deliveries — it is a **UUIDv7** (RFC 9562): 48 bits of Unix milliseconds,
then 74 random bits. It still reveals nothing about volume and cannot be guessed, but
consecutive rows get neighbouring keys, so the unique index takes each insert on its
right-most leaf instead of a random one. With UUIDv4 every insert dirtied a random leaf,
and after each checkpoint the first change to a leaf writes its full 8 kB page to the WAL:
that was most of a transfer's ~9 kB of WAL (see bench/README.md). The creation time it
encodes is already public on these rows (``posted_at``, ``occurred_at``).
Customers, accounts and tokens keep random UUIDv4 ids: few rows, and when a customer was
created is nobody's business.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7 as _uuid7


def uuid7() -> uuid.UUID:
    """A new time-ordered UUID (version 7), as a plain :class:`uuid.UUID` (uuid-utils, in Rust:
    0.7 us against 2.4 us for the pure-Python uuid6 and a conversion; a transfer takes three)."""
    return _uuid7()
