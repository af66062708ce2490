"""The statement PDF: Arabic and Chinese text shaped and extractable, totals equal to the
ledger (the same read as the CSV), and the printable page and downloads on the screen."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from accounts.models import Customer, LedgerAccount
from accounts.services import transfer_post
from branch_ops.business_days import branch_day
from branch_ops.money import Money
from customer_service.selectors import request_statement
from customer_service.services import request_create
from customer_service.statement_pdf import statement_pdf
from tests.accounts.conftest import fund, open_account

NAME = "فاطمة الزهراء"
DESCRIPTION = "工资转账"


@pytest.fixture
def statement_request(staff):
    a = fund(open_account(staff["csr"], staff["supervisor"]), 500_000)
    Customer.objects.filter(pk=a.customer_id).update(full_name=NAME)
    b = open_account(staff["csr"], staff["supervisor"])
    transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(12_345, "AED"),
                  description=DESCRIPTION)
    transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(1_000, "AED"))
    today = branch_day(a.branch)
    sr = request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                        account_number=a.number, data={"start": str(today - dt.timedelta(days=7)), "end": str(today)})
    return sr, a


def _text(pdf: bytes) -> str:
    """The PDF's text. Noto Sans Arabic draws the dots of some letters (ف ة ز ...) as glyphs
    of their own, which have no character: a text extractor shows them as control codes,
    dropped here."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(ch for ch in text if ch == "\n" or ord(ch) >= 0x20)


def test_the_pdf_carries_the_arabic_name_the_chinese_description_and_the_ledger_totals(staff, statement_request):
    sr, account = statement_request
    statement = request_statement(actor=staff["csr"], number=sr.number)
    pdf = statement_pdf(statement, locale="en")
    assert pdf.startswith(b"%PDF") and b"NotoSansSC" in pdf
    text = _text(pdf)
    for word in NAME.split():
        assert word in text
    assert DESCRIPTION in text
    ledger = LedgerAccount.objects.get(pk=account.ledger_id)
    assert (statement.debits, statement.credits, statement.closing_balance) == (13_345, 500_000, ledger.balance)
    for amount in (13_345, 500_000, ledger.balance):
        assert Money(amount, "AED").format("en").replace("\xa0", " ") in text.replace("\xa0", " ")


def test_the_screen_shows_a_printable_statement_and_serves_pdf_and_csv(client, staff, statement_request):
    sr, _account = statement_request
    client.force_login(staff["csr"])
    page = client.get(f"/desk/requests/{sr.number}/statement/")
    html = page.content.decode()
    assert page.status_code == 200 and NAME in html and DESCRIPTION in html
    pdf = client.get(f"/desk/requests/{sr.number}/statement.pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert DESCRIPTION in _text(pdf.content)
    csv = client.get(f"/desk/requests/{sr.number}/statement.csv")
    assert csv.status_code == 200 and NAME in csv.content.decode("utf-8-sig")


def test_the_api_serves_the_pdf_and_other_branches_get_404(api, staff, foreign_staff, statement_request):
    sr, _account = statement_request
    response = api(staff["csr"]).get(f"/api/v1/service-requests/{sr.number}/statement.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert api(foreign_staff["csr"]).get(f"/api/v1/service-requests/{sr.number}/statement.pdf").status_code == 404


def test_a_statement_without_chinese_does_not_embed_the_chinese_font(staff):
    a = fund(open_account(staff["csr"], staff["supervisor"]), 10_000)
    Customer.objects.filter(pk=a.customer_id).update(full_name=NAME)
    today = branch_day(a.branch)
    sr = request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                        account_number=a.number, data={"start": str(today), "end": str(today)})
    pdf = statement_pdf(request_statement(actor=staff["csr"], number=sr.number))
    assert b"NotoSansSC" not in pdf and b"NotoSansArabic" in pdf
    assert NAME.split()[0] in _text(pdf)
