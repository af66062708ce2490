"""The cash window in a real browser: open the drawer with a count, a deposit, a withdrawal
over the limit that a supervisor approves from another browser, an exchange, a blind close.
The same day runs in English and in Arabic (right to left): every label and message the
test looks for is the app's own translation of it."""

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from accounts.models import LedgerAccount
from branch_ops.models import Approval
from branch_ops.money import Money
from teller.models import CashOperation, DrawerSession
from tests.e2e.conftest import login, screenshot
from tests.e2e.data import assert_ledger_balanced, branch_with_staff, cash_window

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LANGUAGE_NAMES = {"ar": "العربيّة"}


class Words:
    """What the screens say, in ``lang``: ``w("Post deposit")``, ``w.money(100000)``."""

    def __init__(self, lang):
        self.lang = lang

    def __call__(self, text):
        with translation.override(self.lang):
            return gettext(text)

    def money(self, amount, currency="AED", *, with_currency=False):
        return Money(amount, currency).format(self.lang, with_currency=with_currency)


def grid(scope, currency):
    return scope.locator(f'[data-testid="denomination-grid"][data-currency="{currency}"]')


def count(scope, w, currency, pieces: dict[int, int]):
    """Type a count into the grid of ``currency``: ``{50000: 10}`` is ten 500.00 notes."""
    for value, quantity in pieces.items():
        grid(scope, currency).get_by_label(w.money(value, currency), exact=True).fill(str(quantity))


def choose_language(page, lang):
    """The language menu of the navigation bar (it submits itself on change: app.js)."""
    if lang != "en":
        with page.expect_navigation():
            page.locator("#language-select").select_option(LANGUAGE_NAMES[lang])
    expect(page.locator("html")).to_have_attribute("lang", lang)


def teller_day(new_page, lang):
    w = Words(lang)
    branch, staff = branch_with_staff()
    account = cash_window(branch, staff)["account"]
    teller = new_page()
    login(teller, "teller.dxb")
    teller.goto("/teller/")
    choose_language(teller, lang)

    # open the drawer with this morning's count: it matches last night's close
    teller.get_by_test_id("open-drawer").click()
    count(teller, w, "AED", {50000: 10, 10000: 20, 1000: 50})
    teller.get_by_role("button", name=w("Open the drawer")).click()
    expect(teller.get_by_role("alert").filter(has_text=w("Your drawer is open."))).to_be_visible()
    expect(teller.get_by_test_id("no-open-difference")).to_be_visible()

    # find the customer by typing, choose the account
    teller.get_by_role("link", name=w("Go to the window")).click()
    teller.get_by_label(w("Name, customer number, account number, document number or phone")).press_sequentially("Layla")
    teller.get_by_test_id("choose-account").filter(has_text=account.number).click()
    expect(teller.get_by_test_id("account-number")).to_have_text(account.number)
    expect(teller.get_by_test_id("available")).to_contain_text(w.money(1_000_000))
    screenshot(teller, "teller-window" if lang == "en" else f"teller-window-{lang}")

    # a deposit of 1,000.00 in ten 100s: the receipt at once
    deposit = teller.get_by_test_id("deposit-form")
    deposit.get_by_label(w("Amount")).fill(w.money(100_000))
    count(deposit, w, "AED", {10000: 10})
    deposit.get_by_role("button", name=w("Post deposit")).click()
    expect(teller.get_by_test_id("receipt-amount")).to_contain_text(w.money(100_000))
    receipt_words = Words(teller.get_by_test_id("receipt").get_attribute("lang"))  # the customer's language
    expect(teller.get_by_test_id("receipt-status")).to_have_text(receipt_words("Posted"))

    # a withdrawal of 6,000.00: over the teller's 5,000.00, it waits for a supervisor
    teller.get_by_role("link", name=w("Next customer")).click()
    teller.goto(f"/teller/?account={account.number}")
    withdrawal = teller.get_by_test_id("withdrawal-form")
    withdrawal.get_by_label(w("Amount")).fill(w.money(600_000))
    count(withdrawal, w, "AED", {50000: 10, 10000: 10})
    withdrawal.get_by_label(w("Identity document number")).fill("P1234567")
    withdrawal.get_by_label(w("Identity document checked")).check()
    withdrawal.get_by_role("button", name=w("Pay out")).click()
    expect(teller.get_by_test_id("waiting")).to_be_visible()
    expect(teller.get_by_test_id("operation-status").first).to_have_text(w("Waiting for a supervisor"))

    # the supervisor, in a browser of their own (English), approves it from the inbox
    supervisor = new_page()
    login(supervisor, "super.dxb")
    supervisor.goto("/floor/inbox/")
    item = supervisor.locator('[data-testid="inbox-item"][data-kind="teller.override"]')
    expect(item).to_contain_text("6,000.00")
    if lang == "en":
        screenshot(supervisor, "supervisor-inbox")
    item.get_by_role("button", name="Approve").click()
    expect(item).to_contain_text("Approved")

    # the teller's window sees it posted: it polls while an override waits
    expect(teller.get_by_test_id("operation-status").first).to_have_text(w("Posted"), timeout=15_000)
    teller.goto(f"/teller/?account={account.number}")
    expect(teller.get_by_test_id("available")).to_contain_text(w.money(500_000))

    # an exchange: the customer hands over 100 USD and gets 360.00 AED (buy rate 3.60)
    teller.get_by_test_id("window-actions").get_by_role("link", name=w("Exchange")).click()
    quote = teller.get_by_test_id("quote-form")
    quote.get_by_label(w("Customer gives")).select_option("USD")
    quote.get_by_label(w("Customer gets")).select_option("AED")
    quote.get_by_label(w("Amount handed over")).fill(w.money(10_000, "USD"))
    quote.get_by_role("button", name=w("Get a quote")).click()
    expect(teller.get_by_test_id("quote-gets")).to_contain_text(w.money(36_000))
    form = teller.get_by_test_id("exchange-form")
    count(form, w, "USD", {10000: 1})
    count(form, w, "AED", {10000: 3, 1000: 6})
    form.get_by_role("button", name=w("Exchange")).click()
    expect(teller.get_by_test_id("receipt-gives")).to_contain_text(w.money(10_000, "USD"))
    expect(teller.get_by_test_id("receipt-amount")).to_contain_text(w.money(36_000))

    # blind close: the page never shows what the drawer should hold; the count balances
    teller.goto("/teller/")
    teller.get_by_role("navigation", name=w("Teller window")).get_by_role("link", name=w("Close the drawer")).click()
    expect(teller.get_by_test_id("count-form")).to_be_visible()
    expect(teller.locator("main")).not_to_contain_text(w.money(214_000))
    count(teller, w, "AED", {10000: 17, 1000: 44})
    count(teller, w, "USD", {10000: 1})
    teller.get_by_role("button", name=w("Close the drawer with this count")).click()
    expect(teller.get_by_role("alert").filter(has_text=w("Your count is in and the drawer is closed."))).to_be_visible()
    expect(teller.get_by_test_id("variance-row")).to_have_count(2)
    expect(teller.get_by_test_id("close-variance").get_by_text(w("balanced"), exact=True)).to_have_count(2)

    # what the database says
    session = DrawerSession.objects.filter(teller=staff["teller"]).latest("opened_at")
    assert session.status == "closed" and session.variance == {}
    ops = {op.kind: op.status for op in CashOperation.objects.filter(session=session)}
    assert ops == {"deposit": "posted", "withdrawal": "posted", "exchange": "posted"}
    assert Approval.objects.get(kind="teller.override").status == "approved"
    assert Approval.objects.filter(kind="teller.eod_signoff", status="pending").count() == 1
    assert LedgerAccount.objects.get(pk=account.ledger.pk).balance == 500_000
    assert_ledger_balanced()
    return teller


def test_a_teller_day_at_the_window(new_page):
    teller_day(new_page, "en")


def test_the_same_day_in_arabic_right_to_left(new_page):
    teller = teller_day(new_page, "ar")
    html = teller.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    stylesheet = teller.locator('link[rel="stylesheet"]').first
    expect(stylesheet).to_have_attribute("href", "/static/vendor/bootstrap/bootstrap.rtl.min.css")
    teller.goto("/teller/")
    expect(teller.locator("html")).to_have_attribute("dir", "rtl")
