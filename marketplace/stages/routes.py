"""Stage pages: the manager's stage plan and advance page (the public timeline is on the challenge page).

Both are for the center managers of the challenge's organization (404 for outsiders, 403 for other staff, as
the other staff pages). Each POST calls one service (replace_stages, advance) and commits once; a refusal
re-renders the page with the service's messages next to the fields and keeps what the manager typed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.challenges.authoring import localize_deadline
from marketplace.challenges.staff_routes import load_for_staff, local_time, user_timezone
from marketplace.errors import DomainError, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.money import Money
from marketplace.page_actions import run_action
from marketplace.stages import presenters, services
from marketplace.stages.analytics import chart_rows, stage_figures
from marketplace.stages.forms import StagePlanForm, advance_form_for
from marketplace.stages.rules import advance_refusal, next_stage, stage_of

bp = Blueprint("stages", __name__, template_folder="templates")

PLANNABLE_STATES = ("draft", "cleared")  # what replace_stages accepts; once open, only an amendment moves a deadline
CENT = Decimal("0.01")  # shares have at most two decimals (awards.decisions.checked_share)


def stage_to_advance(challenge, user):
    """The stage a manager is offered to advance now, or None. Only an offer: services.advance decides."""
    stage = challenge.current_stage
    if stage is None or not challenge.can_manage(user) or advance_refusal(challenge, stage):
        return None
    return stage


def stage_figures_for_page(challenge) -> dict:
    """The per-stage figures and their chart rows, for the analytics page of a multi-stage challenge."""
    figures = stage_figures(challenge)
    return {"figures": figures, "chart": chart_rows(challenge, figures, current_locale_id())}


bp.add_app_template_global(stage_to_advance)
bp.add_app_template_global(stage_figures_for_page)
bp.add_app_template_global(presenters.stage_award, "stage_award")


def _managed(challenge_id: int):
    challenge = load_for_staff(challenge_id)  # 404 for anyone who is not staff of its organization
    if not challenge.can_manage(current_user):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    return challenge


def _place(form, error: DomainError, field_of) -> None:
    """Put a service's messages next to the fields `field_of(key)` names ((field, section) or None); the rest on
    top of the form. The summary goes into a flash message as on every staff page."""
    for key, messages in error.errors.items():
        texts = [str(m) for m in messages]
        target, section = field_of(key) or (None, None)
        if target is not None:
            target.errors = list(target.errors) + texts
        elif section is not None:
            form.section_errors.setdefault(section, []).extend(texts)
        else:
            form.form_errors.extend(texts)
    if not error.errors:
        form.form_errors.append(str(error.detail or error.title))
    flash(str(error.detail or error.title), "error")


# --- the stage plan -------------------------------------------------------------------------------------------

@bp.route("/staff/challenges/<int:challenge_id>/stages", methods=["GET", "POST"])
@login_required
def plan(challenge_id: int):
    challenge = _managed(challenge_id)
    if request.method == "GET" or challenge.status not in PLANNABLE_STATES:
        form = StagePlanForm(formdata=None)
        _fill_plan(form, challenge)
        if request.method == "POST":
            flash(_("The stage plan can change only before publication (a draft or a cleared challenge)."), "error")
            return _plan_page(challenge, form, 409)
        return _plan_page(challenge, form)
    form = StagePlanForm()
    if form.add_stage.data:
        _add_stage(form)
        return _plan_page(challenge, form)
    removed = form.removed_index()
    if removed is not None:
        _remove_stage(form, removed)
        return _plan_page(challenge, form)
    stages = _plan_data(form, challenge) if form.validate_on_submit() else None
    if stages is None:
        return _plan_page(challenge, form, 422)
    saved = (_("The stage plan is saved. The challenge went back to clearance because it had changed after "
               "clearance.") if challenge.status == "cleared" else _("The stage plan is saved."))
    return run_action(lambda: services.replace_stages(challenge, current_user, stages), success=saved,
                      show=lambda error: _place(form, error, lambda key: _plan_field(form, key)),
                      redirect_to=url_for("challenge_staff.manage", challenge_id=challenge.id),
                      refused=lambda refusal: _plan_page(db.session.get(type(challenge), challenge_id), form,
                                                         refusal.status))


def _plan_page(challenge, form, status: int = 200):
    return render_template(
        "stages/plan.html", challenge=challenge, form=form, editable=challenge.status in PLANNABLE_STATES,
        timezone=str(user_timezone()), final_award=Money(challenge.final_award_minor, challenge.award_currency),
        max_stages=services.MAX_STAGES, title=challenge.localized("title", current_locale_id())[1]), status


def _fill_plan(form, challenge) -> None:
    """The stored stages as form rows, in the challenge's default language and the manager's time zone."""
    locale = challenge.default_locale
    while form.stages.entries:
        form.stages.pop_entry()
    for stage in challenge.stages:
        row = form.stages.append_entry().form
        row.source.data = str(stage.id)
        row.name.data = (stage.name or {}).get(locale, "")
        row.description.data = (stage.description or {}).get(locale, "")
        row.deadline.data = local_time(stage.deadline)
        row.advance.data = stage.advance
        row.award.data = Money(stage.award_minor, challenge.award_currency).amount if stage.award_minor else None
        criteria = challenge.criteria_for(stage.id)
        while len(row.criteria) < min(len(criteria) + 1, 12):
            row.criteria.append_entry()
        for entry, criterion in zip(row.criteria, criteria, strict=False):
            entry.form.name.data, entry.form.weight.data = criterion.name.get(locale, ""), criterion.weight


def _add_stage(form) -> None:
    if len(form.stages) >= services.MAX_STAGES:
        flash(_("A challenge has at most %(n)d stages.", n=services.MAX_STAGES), "error")
        return
    before = form.stages.entries[-1].form if form.stages.entries else None
    row = form.stages.append_entry().form
    if before is not None and before.deadline.data:  # a month later, as a starting point
        row.deadline.data = before.deadline.data + timedelta(days=30)


def _remove_stage(form, index: int) -> None:
    if len(form.stages) <= 1:
        flash(_("A challenge has at least one stage."), "error")
        return
    del form.stages.entries[index]


def _texts(stored: dict | None, locale: str, typed: str | None) -> dict[str, str]:
    """The typed text in the default language; the other languages' texts of the same stage are kept."""
    texts = {k: v for k, v in (stored or {}).items() if k != locale}
    if (typed or "").strip():
        texts[locale] = typed.strip()
    return texts


def _stage_criteria(form, entry, locale: str, stored: list) -> list[dict] | None:
    rows = entry.form.criteria_rows()
    if any(weight is None for _name, weight in rows):
        form.section_errors.setdefault(entry.form.criteria.id, []).append(_("Give each criterion a weight."))
        return None
    return [{"name": _texts(stored[i].name if i < len(stored) else {}, locale, name), "weight": weight}
            for i, (name, weight) in enumerate(rows)]


def _plan_data(form, challenge) -> list[dict] | None:
    """What the form says, in the shape replace_stages takes (None: a criteria table is incomplete)."""
    locale, timezone = challenge.default_locale, str(user_timezone())
    stored = {str(s.id): s for s in challenge.stages}
    entries = form.stages.entries
    stages = []
    for index, entry in enumerate(entries):
        row, last = entry.form, index == len(entries) - 1
        source = stored.get(row.source.data or "")
        criteria = _stage_criteria(form, entry, locale, challenge.criteria_for(source.id) if source else [])
        stages.append({
            "name": _texts(source.name if source else {}, locale, row.name.data),
            "description": _texts(source.description if source else {}, locale, row.description.data),
            "deadline": localize_deadline(row.deadline.data, timezone),
            # The last stage decides the awards: nothing advances from it and its award is the final one.
            "advance": None if last else row.advance.data,
            "award": None if last or row.award.data is None else {
                "amount": format(row.award.data, "f"), "currency": challenge.award_currency},
            "criteria": criteria,
        })
    return None if form.section_errors else stages


def _plan_field(form, key: str):
    """"stages.1.deadline" -> (that row's deadline field, None); "stages.1.criteria" -> (None, its table's id)."""
    parts = key.split(".")
    if len(parts) < 3 or parts[0] != "stages" or not parts[1].isdigit() or int(parts[1]) >= len(form.stages):
        return None
    row = form.stages.entries[int(parts[1])].form
    if parts[2] == "criteria":
        return None, row.criteria.id
    if parts[2] in ("name", "description", "deadline", "advance", "award"):
        return row[parts[2]], None
    return None


# --- the advance ------------------------------------------------------------------------------------------

@bp.route("/staff/challenges/<int:challenge_id>/stages/<int:stage_id>/advance", methods=["GET", "POST"])
@login_required
def advance(challenge_id: int, stage_id: int):
    challenge = _managed(challenge_id)
    stage = stage_of(challenge, stage_id)
    if stage is None:
        raise NotFound(_l("No such stage."))
    candidates = _candidates(challenge, stage)
    if request.method == "GET":
        return _advance_page(challenge, stage, candidates, _preselected(challenge, stage, candidates))
    form = advance_form_for([c["id"] for c in candidates], pool=bool(stage.award_minor), formdata=request.form)
    if not form.validate_on_submit():
        return _advance_page(challenge, stage, candidates, form, 422)
    chosen, shares = _choice(form, candidates)
    if form.preview.data or _summary_key(chosen, shares) != form.summary_of.data:
        if not form.preview.data:
            flash(_("The choice changed since the summary was written. Check the summary and confirm again."),
                  "info")
        return _advance_page(challenge, stage, candidates, form, open_summary=True)
    awards = [{"proposal_id": pid, "share_pct": format(share, "f")} for pid, share in shares.items()]
    def show_again(refusal):
        fresh = db.session.get(type(challenge), challenge_id)
        return _advance_page(fresh, stage_of(fresh, stage_id), candidates, form, refusal.status)

    return run_action(
        lambda: services.advance(challenge, stage, current_user, finalists=chosen, awards=awards,
                                 override_reason=form.override_reason.data or None),
        show=lambda error: _place(form, error, lambda key: _advance_field(form, key, awards)),
        success=lambda result: ngettext(
            "Stage %(stage)d is decided: %(num)d finalist is invited to stage %(next)d.",
            "Stage %(stage)d is decided: %(num)d finalists are invited to stage %(next)d.",
            len(result["finalists"]), stage=stage.position, next=result["next_stage"].position),
        redirect_to=url_for("challenge_staff.manage", challenge_id=challenge.id), refused=show_again)


def _candidates(challenge, stage) -> list[dict]:
    """The submitted proposals of the stage being advanced, best first, each with its ranking item (None: not
    reviewed). Empty for a stage that is not the one now judged."""
    from marketplace.reviews.assignment import service as assignment_service
    from marketplace.reviews.ranking import service as ranking_service

    if advance_refusal(challenge, stage):
        return []
    eligible = assignment_service.eligible_proposals(challenge)
    if not eligible:
        return []
    # The grey zone is measured against the advance cut: proposals that may or may not belong among the finalists.
    ranking = ranking_service.challenge_ranking(challenge, stage_id=stage.id, awards=stage.advance, bootstrap=100)
    items = {item["proposal_id"]: item for item in ranking["items"]}
    rows = [{"id": e.proposal.id, "title": e.version.title, "item": items.get(e.proposal.id)} for e in eligible]
    return sorted(rows, key=lambda r: (r["item"]["rank"] if r["item"] else 10**6, r["id"]))


def _equal_shares(count: int) -> list[Decimal]:
    """count shares with two decimals adding up to exactly 100 (the first takes the remainder)."""
    if not count:
        return []
    each = (Decimal(100) / count).quantize(CENT, rounding=ROUND_DOWN)
    return [Decimal(100) - each * (count - 1)] + [each] * (count - 1)


def _preselected(challenge, stage, candidates):
    """The top `advance` reviewed proposals ticked; with a milestone pool, equal shares among them."""
    top = [c["id"] for c in candidates if c["item"]][: stage.advance or 0]
    data = {"finalists": top}
    if stage.award_minor:
        data.update({f"share_{pid}": share for pid, share in zip(top, _equal_shares(len(top)), strict=True)})
    return advance_form_for([c["id"] for c in candidates], pool=bool(stage.award_minor), formdata=None, **data)


def _choice(form, candidates) -> tuple[list[int], dict[int, Decimal]]:
    """The ticked proposals in ranking order (ids that are not candidates last, for the service to name), and the
    shares given, by proposal."""
    ticked = list(dict.fromkeys(form.finalists.data or []))
    order = [c["id"] for c in candidates]
    chosen = [pid for pid in order if pid in ticked] + [pid for pid in ticked if pid not in order]
    shares = {pid: form.share(pid).data for pid in order
              if form.share(pid) is not None and form.share(pid).data is not None}
    return chosen, shares


def _summary_key(chosen: list[int], shares: dict[int, Decimal]) -> str:
    """What the confirmation text was written for: the finalists and their shares."""
    parts = [f"{pid}:{format(shares[pid].normalize(), 'f') if pid in shares else ''}" for pid in sorted(chosen)]
    extra = [f"{pid}={format(share.normalize(), 'f')}" for pid, share in sorted(shares.items()) if pid not in chosen]
    return ",".join(parts + extra)


def _summary(challenge, stage, candidates, chosen: list[int], shares: dict[int, Decimal]) -> dict:
    """What an advance with this choice would do: finalists invited, others told, milestone amounts (once the
    shares add up to 100; services.advance checks the same again)."""
    from marketplace.awards.money_split import split_award

    given = [(pid, shares[pid]) for pid in chosen if pid in shares]
    total = sum((share for _pid, share in given), Decimal(0))
    amounts = []
    exact = all(Decimal(0) < s <= 100 and s == s.quantize(CENT) for _pid, s in given)
    if stage.award_minor and given and total == 100 and exact:
        titles = {c["id"]: c["title"] for c in candidates}
        split = split_award(stage.award_minor, [s for _pid, s in given])
        amounts = [(pid, titles.get(pid, ""), Money(minor, challenge.award_currency))
                   for (pid, _s), minor in zip(given, split, strict=True)]
    return {"finalists": len(chosen), "others": max(0, len(candidates) - len(chosen)),
            "next": next_stage(challenge, stage), "amounts": amounts,
            "shares_total": total if given and not amounts else None}


def _advance_page(challenge, stage, candidates, form, status: int = 200, *, open_summary: bool = False):
    from marketplace.awards.decisions import outstanding_reviews
    from marketplace.labels import ranking_flag_label

    judged_now = bool(candidates)  # _candidates is empty unless the stage may advance now
    chosen, shares = _choice(form, candidates)
    form.summary_of.data = _summary_key(chosen, shares)
    return render_template(
        "stages/advance.html", challenge=challenge, stage=stage, following=next_stage(challenge, stage),
        candidates=candidates, form=form, chosen=set(chosen), judged_now=judged_now,
        can_advance=stage_to_advance(challenge, current_user) is stage,
        summary=_summary(challenge, stage, candidates, chosen, shares), open_summary=open_summary,
        outstanding=outstanding_reviews(challenge, [], stage_id=stage.id) if judged_now else 0,
        pool=Money(stage.award_minor, challenge.award_currency) if stage.award_minor else None,
        decided=_decided(challenge, stage) if stage.decided_at else None, grey_label=ranking_flag_label("grey_zone"),
        flag_label=ranking_flag_label,
        title=challenge.localized("title", current_locale_id())[1]), status


def _decided(challenge, stage) -> dict:
    """What a decided stage's page shows: its finalists and milestone awards."""
    from marketplace.awards.models import Award
    from marketplace.proposals.models import Proposal
    from marketplace.stages.rules import finalist_proposals_clause

    finalists = db.session.scalars(select(Proposal).where(finalist_proposals_clause(stage.id))
                                   .order_by(Proposal.id)).all()
    awards = db.session.scalars(select(Award).where(Award.stage_id == stage.id, Award.decision_id.is_(None))
                                .order_by(Award.id)).all()
    return {"finalists": finalists, "awards": [(a, Money(a.amount_minor, a.currency)) for a in awards]}


def _advance_field(form, key: str, awards: list[dict]):
    """"finalists..." -> the checkboxes; "awards.2.share_pct" -> that proposal's share; "awards" -> the shares."""
    parts = key.split(".")
    if parts[0] == "finalists":
        return form.finalists, None
    if parts[0] == "override_reason":
        return form.override_reason, None
    if parts[0] == "awards" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(awards):
        field = form.share(awards[int(parts[1])]["proposal_id"])
        return (field, None) if field is not None else (None, "shares")
    if parts[0] == "awards":
        return None, "shares"
    return None
