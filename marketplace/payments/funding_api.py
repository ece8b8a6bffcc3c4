"""Funding API: a finance officer starts the provider's funding of a challenge or records a manual receipt."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from marketplace.api import login_required_api
from marketplace.challenges.services import get_visible
from marketplace.extensions import db
from marketplace.money import Money, MoneyField
from marketplace.payments import funding

blp = Blueprint("funding_api", __name__, url_prefix="/api/v1", description="Funding of challenges")


class ReceiptIn(ma.Schema):
    reference = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    amount = MoneyField(required=True)
    received_on = ma.fields.Date(required=True)
    confirm_overfunding = ma.fields.Boolean(load_default=False)  # needed when amount > what is outstanding


@blp.post("/challenges/<int:challenge_id>/funding")
@login_required_api
def start_funding(challenge_id: int):
    challenge = get_visible(challenge_id, current_user)
    intent = funding.start_funding(challenge, current_user)
    db.session.commit()
    body = {"id": intent.id, "provider": intent.provider, "status": intent.status,
            "amount": Money(intent.amount_minor, intent.currency).as_dict()}
    if intent.client_secret:
        body["client_secret"] = intent.client_secret
    return body, 201


@blp.post("/challenges/<int:challenge_id>/funding/receipts")
@blp.arguments(ReceiptIn)
@login_required_api
def record_receipt(data, challenge_id: int):
    challenge = get_visible(challenge_id, current_user)
    receipt = funding.record_receipt(challenge, current_user, **data)
    db.session.commit()
    return {"id": receipt.id, "reference": receipt.reference,
            "amount": Money(receipt.amount_minor, receipt.currency).as_dict(),
            "received_on": receipt.received_on.isoformat(), "challenge_funded": challenge.funded}, 201
