"""The operations the screens had and the API lacked: the specimen signature (upload and
view), the cash alerts, the vault transfer list (the custodian's pending list), the
complaint's acknowledgement letter. Same services and selectors as the screens, same roles."""

import base64

import pytest

from accounts.models import SpecimenSignature
from branch_ops.models import AuditEvent
from branch_ops.money import Money
from teller.services import cash_deposit_post, vault_transfer_request
from tests.accounts.conftest import fund, open_account
from tests.teller.conftest import open_drawer, setup_branch_cash

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROLES = ["teller", "csr", "coordinator", "supervisor"]


@pytest.fixture
def account(staff):
    return fund(open_account(staff["csr"], staff["supervisor"]), 5_000_000)


def test_a_csr_keeps_a_signature_and_any_staff_sees_it_audited(api, staff, account):
    number = account.customer.number
    created = api(staff["csr"]).post(f"/api/v1/customers/{number}/signature/",
                                     {"image": base64.b64encode(PNG).decode()}, format="json")
    assert created.status_code == 201
    assert created.json() == {"customer": number, "content_type": "image/png", "size": len(PNG),
                              "captured_by": staff["csr"].username}
    shown = api(staff["teller"]).get(f"/api/v1/customers/{number}/signature/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png" and shown.content == PNG
    assert AuditEvent.objects.filter(action="customer.signature_viewed", customer_ref=number).count() == 1


@pytest.mark.parametrize("role", ["teller"])
def test_a_teller_cannot_keep_a_signature(api, staff, account, role):
    response = api(staff[role]).post(f"/api/v1/customers/{account.customer.number}/signature/",
                                     {"image": base64.b64encode(PNG).decode()}, format="json")
    assert response.status_code == 403
    assert SpecimenSignature.objects.count() == 0


@pytest.mark.parametrize(("image", "code"), [("not base64!", "VALIDATION_FAILED"),
                                             (base64.b64encode(b"GIF89a....").decode(), "INVALID_IMAGE"),
                                             (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 210_000).decode(),
                                              "INVALID_IMAGE")])
def test_a_bad_image_is_refused(api, staff, account, image, code):
    response = api(staff["csr"]).post(f"/api/v1/customers/{account.customer.number}/signature/", {"image": image},
                                      format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert SpecimenSignature.objects.count() == 0


def test_no_signature_is_a_404_problem(api, staff, account):
    response = api(staff["teller"]).get(f"/api/v1/customers/{account.customer.number}/signature/")
    assert response.status_code == 404 and response.json()["code"] == "NO_SIGNATURE"


@pytest.mark.parametrize("role", ROLES)
def test_cash_alerts_for_those_who_watch_the_branch(api, staff, branch, account, role):
    setup_branch_cash(branch, threshold=100_000)
    open_drawer(staff["teller"], staff["supervisor"], "W1")
    op = cash_deposit_post(actor=staff["teller"], account_number=account.number, amount=Money(200_000, "AED"),
                           denominations={"50000": 4}, party={"name": "Fatima", "document": "P1",
                                                               "document_checked": True, "occupation": "doctor",
                                                               "source_of_funds": "salary"})
    response = api(staff[role]).get("/api/v1/teller/alerts/")
    if role in ("coordinator", "supervisor"):
        assert response.status_code == 200
        assert [r["reference"] for r in response.json()["large_cash"]] == [op.reference]
    else:
        assert response.status_code == 403


def test_vault_transfers_the_teller_sees_their_own_the_custodian_the_branchs(api, staff, branch):
    setup_branch_cash(branch)
    open_drawer(staff["teller"], staff["supervisor"], "W1")
    waiting = vault_transfer_request(actor=staff["teller"], direction="to_drawer", currency="AED",
                                     denominations={"10000": 1})
    mine = api(staff["teller"]).get("/api/v1/teller/vault-transfers/").json()
    assert waiting.public_id.hex in {r["id"].replace("-", "") for r in mine["results"]}
    pending = api(staff["supervisor"]).get("/api/v1/teller/vault-transfers/?status=requested").json()
    assert [r["id"] for r in pending["results"]] == [str(waiting.public_id)]
    assert api(staff["csr"]).get("/api/v1/teller/vault-transfers/").status_code == 403
    bad = api(staff["supervisor"]).get("/api/v1/teller/vault-transfers/?status=lost")
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_FILTER"


def test_the_acknowledgement_letter(api, staff, account):
    from complaints.models import Category, Regime
    from complaints.reference_data import complaints_reference_load
    from complaints.services import complaint_acknowledge, complaint_log

    complaints_reference_load(Regime, Category)
    complaint = complaint_log(actor=staff["csr"], channel="branch", category="accounts.charges",
                              description="Charged twice", customer_number=account.customer.number)
    preview = api(staff["csr"]).get(f"/api/v1/complaints/{complaint.number}/letter/").json()
    assert preview["sent_at"] is None and complaint.number in preview["text"]
    complaint_acknowledge(actor=staff["csr"], number=complaint.number)
    sent = api(staff["csr"]).get(f"/api/v1/complaints/{complaint.number}/letter/").json()
    assert sent["sent_at"] is not None
