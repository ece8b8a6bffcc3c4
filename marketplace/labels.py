"""Translated names for stored codes (roles, states), for pages and mails."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Platform administrator"),
    "center_manager": _l("Center manager"),
    "security_officer": _l("Security officer"),
    "finance_officer": _l("Finance officer"),
    "reviewer": _l("Reviewer"),
    "solver": _l("Solver"),
}

MAIL_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
}


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def mail_status_label(code: str) -> str:
    return str(MAIL_STATUS_LABELS.get(code, code))
