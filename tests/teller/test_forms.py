"""The teller forms' denomination grids: one count input per active note and coin, labelled
in the page's language. The inputs are built once per note and language and copied into
each form, so what one form does to its inputs never shows on another."""

import pytest
from django.utils import translation

from branch_ops.models import Currency
from teller.forms import DepositForm, VaultTransferForm
from teller.models import Denomination
from teller.reference_data import denominations_load

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _denominations(branch):  # the branch brings the currencies
    denominations_load(Denomination, Currency)


def test_each_form_labels_its_grid_in_its_own_language():
    with translation.override("it"):
        italian = DepositForm(currency="AED")
    with translation.override("en"):
        english = DepositForm(currency="AED")

    assert (italian.fields["d_100000"].label, english.fields["d_100000"].label) == ("1.000,00", "1,000.00")
    assert [row["name"] for row in english.grid][:3] == ["d_100000", "d_50000", "d_20000"]


def test_one_forms_focus_and_errors_stay_on_that_form():
    with translation.override("en"):
        vault = VaultTransferForm(currency="AED")  # the cursor waits in its first count input
        bound = DepositForm({"d_1000": "-1"}, currency="AED")
        bound.is_valid()
        fresh = DepositForm(currency="AED")

    assert vault.fields["d_100000"].widget.attrs.get("autofocus") is True
    assert "d_1000" in bound.errors
    assert "autofocus" not in fresh.fields["d_100000"].widget.attrs
    assert fresh.fields["d_1000"].widget.attrs["class"] == "form-control"
    assert fresh["d_1000"].errors == []
