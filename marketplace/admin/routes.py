from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.mail.models import OutboxMail
from marketplace.mail.services import mail_configured
from marketplace.permissions import Role, require_roles

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
PER_PAGE = 50
MAX_PAGE = 100_000


@bp.get("/outbox")
@require_roles(Role.ADMIN, not_found=True)
def outbox():
    """Every mail the platform wrote: the way to read mail in development without SMTP."""
    # Clamped like the API's PageArgs: a huge page number would overflow the database's OFFSET.
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    mails = db.session.scalars(
        select(OutboxMail).order_by(OutboxMail.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    total = db.session.scalar(select(func.count(OutboxMail.id)))
    return render_template("admin/outbox.html", mails=mails, page=page, total=total, per_page=PER_PAGE,
                           smtp=mail_configured())
