"""POST /api/v1/webhooks/stripe: Stripe's signed notifications. No login, no CSRF: the signature is the check.

400 for a bad or missing signature, a timestamp outside the tolerance, or a body that is not a
Stripe event; 200 for everything else, duplicates and unknown types included (Stripe retries
anything else for days). Each event is applied once: its id is stored in the same transaction.
"""

from __future__ import annotations

import logging

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from marketplace.api import problem
from marketplace.extensions import db
from marketplace.payments.events import apply_event
from marketplace.payments.providers.interface import InvalidWebhook, ProviderError
from marketplace.payments.providers.registry import current_provider

log = logging.getLogger(__name__)
blp = Blueprint("payments_webhooks", __name__, url_prefix="/api/v1", description="Payment provider webhooks")


@blp.post("/webhooks/stripe")
def stripe_webhook():
    provider = current_provider()
    if provider.name != "stripe":
        return problem(404, "Not Found", _("Stripe is not configured."))
    payload = request.get_data(cache=False)
    try:
        event = provider.parse_webhook(payload, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        log.warning("stripe webhook refused: %s", error.message)
        return problem(400, "Bad Request", _("The webhook signature or payload is not valid."))
    except ProviderError as error:  # our configuration (no webhook secret), not the sender's fault
        log.error("stripe webhook cannot be verified: %s", error.message)
        return problem(503, "Service Unavailable", _("Webhooks cannot be verified right now."))
    try:
        outcome = apply_event(event)
        db.session.commit()
    except IntegrityError:  # the same event delivered twice at the same moment: the other one applied it
        db.session.rollback()
        outcome = "duplicate"
    log.info("stripe event %s (%s): %s", event.id, event.type, outcome)
    return {"received": True, "id": event.id, "type": event.type, "result": outcome}
