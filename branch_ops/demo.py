"""Demo data: two branches, staff of every role at each, a few customers with accounts in
two currencies, and an account opening waiting for a supervisor. Idempotent: running it
again adds nothing. Everything goes through the real services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import BankAccount, Customer
from accounts.services import account_open_request
from branch_ops.approvals import approval_decide
from branch_ops.models import Approval, Branch, Currency
from branch_ops.reference_data import currencies_load
from branch_ops.roles import sync_role_groups
from branch_ops.services import staff_create

DEMO_PASSWORD = "BranchOps-demo-2026"
ADMIN = ("admin", "BranchOps-admin-2026")
#: DEMO ONLY. The TOTP secret of every demo supervisor and the demo admin (base32, as an
#: authenticator app takes it). Published in the README, so worthless as a secret: a real
#: person enrols on the screen, which draws a random key. ``manage.py demo_totp USER``
#: prints the current code.
DEMO_TOTP_SECRET = "BRANCHOPSDEMOTOTPKEYDONOTUSEPROD"

BRANCHES = [
    {"code": "DXB01", "name": "Dubai Main", "currency": "AED", "time_zone": "Asia/Dubai", "country": "AE",
     "address": "Sheikh Zayed Road 1, Dubai", "suffix": "dxb", "second": "USD"},
    {"code": "MIL01", "name": "Milano Centro", "currency": "EUR", "time_zone": "Europe/Rome", "country": "IT",
     "address": "Via Dante 7, 20121 Milano", "suffix": "mil", "second": "USD"},
]

STAFF = [  # (username prefix, role, first name, last name)
    ("teller", "teller", "Tariq", "Haddad"),
    ("csr", "csr", "Chiara", "Rossi"),
    ("coord", "coordinator", "Omar", "Farouk"),
    ("super", "supervisor", "Sofia", "Bianchi"),
    ("super2", "supervisor", "Li", "Wei"),
]

CUSTOMERS = {
    "DXB01": [
        ("C0000101", "فاطمة الزهراء", "Fatima Al Zahra", "ar"),
        ("C0000102", "Rahul Mehta", "", "en"),
        ("C0000103", "王芳", "Wang Fang", "zh-hans"),
    ],
    "MIL01": [
        ("C0000201", "Giulia Conti", "", "it"),
        ("C0000202", "Marco Esposito", "", "it"),
        ("C0000203", "أحمد منصور", "Ahmed Mansour", "ar"),
    ],
}


def _migrate_opening_balance(account, actor, branch) -> None:
    """Balances brought over from the old core system: credited to the customer against the
    branch's suspense account, as a data migration would post them."""
    from accounts.ledger import CREDIT, DEBIT, Line, ledger_post
    from accounts.services import internal_account
    from branch_ops.money import Money

    amount = Money.parse("2500" if account.currency_id == "USD" else "12500", account.currency_id)
    with transaction.atomic(durable=True):
        ledger_post(kind="opening_balance", actor=actor, branch=branch, description="Balance migrated from core",
                    lines=[Line(internal_account(branch=branch, kind="suspense", currency=account.currency_id), DEBIT,
                                amount),
                           Line(account.ledger, CREDIT, amount)])


def demo_logins() -> list[tuple[str, str, str, str]]:
    rows = [(ADMIN[0], ADMIN[1], "superuser", "—")]
    for b in BRANCHES:
        for prefix, role, *_ in STAFF:
            rows.append((f"{prefix}.{b['suffix']}", DEMO_PASSWORD, role, b["code"]))
    return rows


def seed_demo_totp() -> None:
    """Each demo login that needs a second factor gets a confirmed device with the published
    demo secret (if it has none yet), so ``make run`` stays usable."""
    from branch_ops.twofactor import base32_to_hex, totp_device_confirmed, totp_device_set, two_factor_required

    User = get_user_model()
    for username, *_ in demo_logins():
        user = User.objects.filter(username=username).first()
        if user is not None and two_factor_required(user) and totp_device_confirmed(user) is None:
            totp_device_set(user=user, key_hex=base32_to_hex(DEMO_TOTP_SECRET), name="Demo authenticator")


def seed_demo() -> bool:
    """Load the demo data; return False if it was already there."""
    sync_role_groups()
    currencies_load(Currency)
    User = get_user_model()
    if Branch.objects.filter(code="DXB01").exists() and User.objects.filter(username="super.dxb").exists():
        seed_demo_totp()
        return False
    if not User.objects.filter(username=ADMIN[0]).exists():
        User.objects.create_superuser(ADMIN[0], "admin@example.invalid", ADMIN[1])
    for spec in BRANCHES:
        with transaction.atomic():
            branch, _ = Branch.objects.get_or_create(code=spec["code"], defaults={
                "name": spec["name"], "currency": Currency.objects.get(code=spec["currency"]),
                "time_zone": spec["time_zone"], "country": spec["country"], "address": spec["address"]})
        users = {}
        for prefix, role, first, last in STAFF:
            username = f"{prefix}.{spec['suffix']}"
            existing = User.objects.filter(username=username).first()
            users[prefix] = existing or staff_create(
                actor=None, branch=branch, username=username, role=role, password=DEMO_PASSWORD,
                first_name=first, last_name=last).user
        for number, name, latin, lang in CUSTOMERS[spec["code"]]:
            customer, created = Customer.objects.get_or_create(number=number, defaults={
                "full_name": name, "latin_name": latin, "preferred_language": lang, "home_branch": branch})
            if not created:
                continue
            for currency in (spec["currency"], spec["second"]):
                account = account_open_request(actor=users["csr"], customer_number=number, product="current",
                                               currency=currency, reason="demo: new customer")
                approval = Approval.objects.get(subject_id=str(account.public_id), status="pending")
                approval_decide(approval_id=approval.public_id, actor=users["super"], approve=True,
                                reason="documents verified")
                _migrate_opening_balance(account, users["super"], branch)
        from complaints.demo import seed_complaints_demo
        from customer_service.demo import seed_desk_demo
        from teller.demo import seed_teller_demo

        seed_teller_demo(branch, users)
        seed_desk_demo(branch, users)
        seed_complaints_demo(branch, users)
        from branch_ops.floor.lobby.demo import seed_lobby_demo

        seed_lobby_demo(branch, users)
        # one opening left waiting, so the supervisor's inbox is not empty
        first_number = CUSTOMERS[spec["code"]][0][0]
        if not BankAccount.objects.filter(customer__number=first_number, product="savings").exists():
            account_open_request(actor=users["csr"], customer_number=first_number, product="savings",
                                 currency=spec["currency"], reason="customer wants a savings account")
    seed_demo_totp()
    return True
