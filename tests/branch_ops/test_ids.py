import time
import uuid

from branch_ops.ids import uuid7


def test_public_ids_are_uuid7_in_creation_order_and_carry_the_time():
    """What the unique indexes of the busiest tables count on (ids.py): plain UUIDs that a
    Django UUIDField takes, version 7, each after the one before it, with the current time in
    their first 48 bits."""
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert all(type(u) is uuid.UUID and u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert before <= ids[0].int >> 80 <= ids[-1].int >> 80 <= after
