"""The shared pieces that replaced repeated code keep what each copy did: a kind of domain error is a real class,
fields added for one request never reach the base form, and a short list is answered in the paged shape."""

from decimal import Decimal

import pytest
from flask import request
from wtforms import DecimalField

from marketplace.api import one_page
from marketplace.errors import DomainError, NotFound
from marketplace.files.storage import StoredFileMissing
from marketplace.form_bases import with_fields
from marketplace.payments.errors import PaymentDeclined
from marketplace.proposals.forms import ShareForm


def test_a_domain_error_kind_is_a_class_with_its_status_and_title():
    assert issubclass(NotFound, DomainError)
    assert (NotFound.status, NotFound.title, NotFound.__module__) == (404, "Not found", "marketplace.errors")
    assert (PaymentDeclined.status, PaymentDeclined.__module__) == (402, "marketplace.payments.errors")
    assert issubclass(StoredFileMissing, NotFound)  # kinds may be refined further
    with pytest.raises(NotFound) as raised:
        raise NotFound("gone")
    assert raised.value.detail == "gone"


def test_fields_added_for_one_request_never_reach_the_base_form(app):
    with app.test_request_context(method="POST", data={"share_7": "60"}):
        form = with_fields(ShareForm, {"share_7": DecimalField("Ada", places=2)}, formdata=request.form)
        assert form.share_7.data == Decimal("60")
        assert isinstance(form, ShareForm)
    assert not hasattr(ShareForm, "share_7")
    with app.test_request_context(method="POST", data={}):
        assert "share_7" not in ShareForm(formdata=request.form)


def test_a_short_list_is_answered_as_one_page():
    assert one_page(["a", "b"]) == {"items": ["a", "b"], "page": 1, "per_page": 2, "total": 2}
    assert one_page([]) == {"items": [], "page": 1, "per_page": 0, "total": 0}
