"""Award pages for solvers: read and accept the IP assignment."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace.awards import ip_assignment
from marketplace.awards.forms import AcceptForm
from marketplace.errors import NotFound
from marketplace.page_actions import run_action

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
        accepted = run_action(lambda: ip_assignment.accept(award, current_user, version=form.version.data),
                              success=_("Thank you: your IP assignment is recorded."),
                              redirect_to=url_for("payments.my_payments"),
                              refused=lambda refusal: None)  # a refusal shows this page again, with the reason
        if accepted is not None:
            accepted.status_code = 303  # see other: the payments page, loaded with GET
            return accepted
    text = recipient.ip_text if recipient.ip_accepted_at else ip_assignment.assignment_text(award, recipient)
    return render_template("awards/ip_assignment.html", award=award, recipient=recipient, text=text, form=form,
                           challenge=challenge)

