import pytest

from tests.e2e.conftest import login
from tests.factories import BranchFactory, make_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_teller_signs_in_and_sees_home(new_page):
    branch = BranchFactory(code="DXB01", name="Dubai Main")
    make_staff(branch, "teller", "teller.dxb")
    page = new_page()
    login(page, "teller.dxb")
    print(page.url, page.title())
    page.goto("/teller/")
    print(page.content()[:500])
