from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from marketplace.errors import ValidationFailed
from marketplace.pricing import services

bp = Blueprint("pricing", __name__, template_folder="templates")


@bp.get("/award-quote")
def quote_page():
    """Benchmarks side by side, the premium, and the resulting award."""
    args = request.args
    low, high = services.premium_range()
    form = {
        "challenge_type": args.get("challenge_type", "rtp"),
        "field": args.get("field", ""),
        "currency": args.get("currency", "USD").upper()[:3],
        "premium_pct": args.get("premium_pct", "15"),
    }
    result = error = None
    if args.get("field"):
        try:
            premium = Decimal(form["premium_pct"])
            result = services.quote(challenge_type=form["challenge_type"], field=form["field"],
                                    currency=form["currency"], premium_pct=premium)
        except InvalidOperation:
            error = _("Enter the premium as a number, such as 15.")
        except ValidationFailed as failure:
            error = str(failure.detail)
    return render_template("pricing/quote.html", form=form, result=result, error=error, low=low, high=high,
                           types=services.CHALLENGE_TYPES, fields=services.known_fields())
