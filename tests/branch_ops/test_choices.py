import pytest
from django.db.models import Model
from django.utils import translation

from branch_ops.choices import choice_label
from customer_service.models import RequestKind, RequestStatus, ServiceRequest


@pytest.mark.parametrize("language", ["en", "ar", "it", "zh-hans"])
def test_request_labels_are_the_ones_djangos_get_foo_display_gives(language):
    kind_field, status_field = ServiceRequest._meta.get_field("kind"), ServiceRequest._meta.get_field("status")
    with translation.override(language):
        for kind in [*RequestKind.values, "not_a_kind"]:
            request = ServiceRequest(kind=kind, status="submitted")
            assert request.get_kind_display() == Model._get_FIELD_display(request, kind_field)
        for status in [*RequestStatus.values, "not_a_status"]:
            request = ServiceRequest(kind="inquiry", status=status)
            assert request.get_status_display() == Model._get_FIELD_display(request, status_field)


def test_a_label_is_translated_and_an_unknown_value_shown_as_it_is():
    with translation.override("it"):
        assert choice_label(RequestStatus, "submitted") == str(RequestStatus.SUBMITTED.label)
    assert choice_label(RequestStatus, "gone") == "gone"
    assert choice_label(RequestStatus, None) is None
