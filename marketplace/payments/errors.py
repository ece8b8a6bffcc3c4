"""Provider failures as domain errors, so a route answers 502/503 with a plain message instead of a 500."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.errors import DomainError, domain_error
from marketplace.payments.providers.interface import ProviderDeclined, ProviderError, ProviderUnavailable

PaymentProviderUnavailable = domain_error("PaymentProviderUnavailable", 503, "Service unavailable", __name__)
PaymentProviderFailed = domain_error("PaymentProviderFailed", 502, "Bad gateway", __name__)
PaymentDeclined = domain_error("PaymentDeclined", 402, "Payment declined", __name__)


def as_domain_error(error: ProviderError) -> DomainError:
    if isinstance(error, ProviderUnavailable):
        return PaymentProviderUnavailable(_l("The payment provider did not answer. Please try again in a minute."))
    if isinstance(error, ProviderDeclined):
        return PaymentDeclined(_l("The payment provider declined: %(reason)s", reason=error.message))
    return PaymentProviderFailed(_l("The payment provider refused the request: %(reason)s", reason=error.message))
