"""Award pages for solvers: read and accept the IP assignment."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace.awards import ip_assignment
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.payments.forms import AcceptForm

bp = Blueprint("awards", __name__, template_folder="templates")


@bp.route("/awards/<int:award_id>/ip-assignment", methods=["GET", "POST"], endpoint="ip_assignment")
@login_required
def ip_assignment_page(award_id: int):
    award = ip_assignment.get_visible(award_id, current_user)
    recipient = ip_assignment.recipient_of(award, current_user)
    if recipient is None:
        raise NotFound(_l("No such award."))
    challenge = ip_assignment.award_challenge(award)
    form = AcceptForm(version=ip_assignment.text_version(challenge))
    if form.validate_on_submit():
        try:
            ip_assignment.accept(award, current_user, version=form.version.data)
            db.session.commit()
            flash(_("Thank you: your IP assignment is recorded."), "success")
            return redirect(url_for("payments.my_payments"), code=303)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.detail), "error")
    text = recipient.ip_text if recipient.ip_accepted_at else ip_assignment.assignment_text(award, recipient)
    return render_template("awards/ip_assignment.html", award=award, recipient=recipient, text=text, form=form,
                           challenge=challenge)

