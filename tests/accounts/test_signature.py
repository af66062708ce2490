import pytest

from branch_ops.models import AuditEvent
from tests.accounts.conftest import open_account

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_csr_captures_a_signature_and_the_teller_sees_it_at_withdrawal(client, staff):
    account = open_account(staff["csr"], staff["supervisor"])
    number = account.customer.number
    client.force_login(staff["csr"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(f"/customers/{number}/signature/new/",
                           {"image": SimpleUploadedFile("sig.png", PNG, content_type="image/png")})
    assert response.status_code == 302
    client.force_login(staff["teller"])
    image = client.get(f"/customers/{number}/signature/")
    assert (image.status_code, image["Content-Type"], image.content) == (200, "image/png", PNG)
    assert AuditEvent.objects.filter(action="customer.signature_viewed", actor=staff["teller"]).exists()


@pytest.mark.parametrize("payload", [b"GIF89a....", b"\x89PNG\r\n\x1a\n" + b"\x00" * (201 * 1024)])
def test_only_small_png_or_jpeg_images_are_kept(client, staff, payload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import SpecimenSignature

    account = open_account(staff["csr"], staff["supervisor"])
    client.force_login(staff["csr"])
    client.post(f"/customers/{account.customer.number}/signature/new/",
                {"image": SimpleUploadedFile("sig.bin", payload)})
    assert not SpecimenSignature.objects.exists()


def test_a_teller_cannot_capture_signatures(client, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    account = open_account(staff["csr"], staff["supervisor"])
    client.force_login(staff["teller"])
    response = client.post(f"/customers/{account.customer.number}/signature/new/",
                           {"image": SimpleUploadedFile("sig.png", PNG)})
    assert response.status_code == 403
