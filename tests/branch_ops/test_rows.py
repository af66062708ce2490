import datetime
import uuid
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import BankAccount
from branch_ops.rows import json_ready


def _round_trip(value):
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def test_a_plain_value_is_copied_as_it_is():
    value = {"from": "000100000114", "amount": 500, "ok": True, "note": None, "lines": [{"n": 1}, "x"]}
    ready = json_ready(value)
    assert ready == value == _round_trip(value)
    value["lines"].append("later")  # the caller's later change does not reach the row
    assert ready["lines"] == [{"n": 1}, "x"]


def test_anything_else_comes_back_as_a_json_column_would_give_it():
    value = {"on": datetime.date(2026, 11, 23), "rate": Decimal("3.6725"), "id": uuid.UUID(int=1),
             "pair": ("AED", "USD"), "status": BankAccount.Status.FROZEN, 1: "int key"}
    ready = json_ready(value)
    assert ready == _round_trip(value)
    assert ready["on"] == "2026-11-23" and ready["pair"] == ["AED", "USD"] and ready["1"] == "int key"
    assert type(ready["status"]) is str
