import pytest

from branch_ops.floor.lobby.models import Counter, PriorityRule
from branch_ops.floor.lobby.reference_data import lobby_services_default, priority_rules_load
from branch_ops.floor.lobby.services import counter_sign_in


def lobby_setup(branch, counters: dict[str, tuple[str, ...]] | None = None) -> dict:
    """The three usual services at ``branch`` and counters serving them
    (``{"1": ("cash",), "2": ("desk", "complaints")}`` by default)."""
    priority_rules_load(PriorityRule)  # a transactional test flushed the migration's rows
    services = {s.code: s for s in lobby_services_default(branch)}
    counters = counters or {"1": ("cash",), "2": ("desk", "complaints")}
    made = {}
    for number, codes in counters.items():
        counter, _ = Counter.objects.get_or_create(branch=branch, number=number)
        counter.services.set([services[c] for c in codes])
        made[number] = counter
    return {"services": services, "counters": made}


def seat(user, number: str):
    return counter_sign_in(actor=user, counter_number=number)


@pytest.fixture
def lobby(branch):
    return lobby_setup(branch)
