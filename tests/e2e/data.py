"""The branch each browser test starts from, made through the factories and the real services."""

from __future__ import annotations

from accounts.ledger import ledger_verify
from accounts.models import Customer
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval, Currency
from branch_ops.reference_data import currencies_load
from teller.models import CashLimit
from teller.services import drawer_session_close, rate_set
from tests.accounts.conftest import fund, open_account
from tests.factories import BranchFactory, CustomerFactory, make_staff
from tests.teller.conftest import open_drawer, setup_branch_cash

#: what yesterday's close left in the drawer: 10 × 500 + 20 × 100 + 50 × 10 = 7,500.00 AED
YESTERDAY = {"50000": 10, "10000": 20, "1000": 50}


def branch_with_staff():
    currencies_load(Currency)  # a transactional test before this one flushed the migration's rows
    branch = BranchFactory(code="DXB01", name="Dubai Main")
    staff = {
        "teller": make_staff(branch, "teller", "teller.dxb"),
        "csr": make_staff(branch, "csr", "csr.dxb"),
        "coordinator": make_staff(branch, "coordinator", "coord.dxb"),
        "supervisor": make_staff(branch, "supervisor", "super.dxb"),
    }
    return branch, staff


def cash_window(branch, staff) -> dict:
    """Denominations, limits (5,000.00 AED a deposit or withdrawal for a teller), a stocked
    vault, 5,000.00 AED an exchange, a USD rate (buy 3.60, sell 3.70), a customer with 10,000.00 AED, and the teller's
    drawer W1 closed yesterday with 7,500.00 AED in it and signed off."""
    teller, supervisor = staff["teller"], staff["supervisor"]
    setup_branch_cash(branch)
    CashLimit.objects.create(branch=branch, role="teller", operation="exchange", currency_id="AED", max_amount=500_000)
    rate_set(actor=supervisor, currency="USD", buy="3.60", sell="3.70")
    open_drawer(teller, supervisor, "W1", notes=YESTERDAY)
    session = drawer_session_close(actor=teller, counts={"AED": YESTERDAY})
    signoff = Approval.objects.get(kind="teller.eod_signoff", subject_id=str(session.public_id))
    approval_decide(approval_id=signoff.public_id, actor=supervisor, approve=True, reason="counted with the teller")
    customer = CustomerFactory(home_branch=branch, full_name="Layla Haddad")
    account = fund(open_account(staff["csr"], supervisor, customer=customer), 1_000_000)
    return {"account": account, "customer": customer}


def assert_ledger_balanced():
    report = ledger_verify()
    assert report.ok, report.problems


__all__ = ["Customer", "assert_ledger_balanced", "branch_with_staff", "cash_window"]


def tiny_png() -> bytes:
    """A real 8×4 grey PNG (a stand-in for a scanned specimen signature)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    width, height = 8, 4
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def desk_customer(branch, staff) -> dict:
    """A customer with an active, funded AED current account and a debit card issued on it."""
    from customer_service.models import Card
    from customer_service.services import request_claim, request_create, request_fulfil

    csr = staff["csr"]
    customer = CustomerFactory(home_branch=branch, full_name="Omar Khalil", document_number="P7654321")
    account = fund(open_account(csr, staff["supervisor"], customer=customer), 250_000)
    issue = request_create(actor=csr, kind="card_issue", customer_number=customer.number,
                           account_number=account.number, data={})
    request_claim(actor=csr, number=issue.number)
    request_fulfil(actor=csr, number=issue.number, data={"masked_pan": "411111******1234"})
    return {"customer": customer, "account": account, "card": Card.objects.get(customer=customer)}
