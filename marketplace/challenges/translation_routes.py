"""Translation pages, on the `challenge_staff` blueprint: one language's texts (managers and that language's
invited translators), marking a translation reviewed, inviting and revoking translators (managers, from the
manage page), and the signed-in translator's work list (/me/translations). The rules are in translations.py.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from marketplace.challenges import translations
from marketplace.challenges.forms import ActionForm, TranslationForm
from marketplace.challenges.models import Challenge
from marketplace.challenges.staff_routes import bp, load_for_staff, render_manage
from marketplace.challenges.translation_models import ChallengeTranslator
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.i18n import LANGUAGES, locale_display_name
from marketplace.page_actions import run_action


class InviteTranslatorForm(FlaskForm):
    """A manager invites an existing account to translate the challenge into one language."""

    email = EmailField(_l("E-mail address of their account"), validators=[DataRequired(), Email(), Length(max=254)])
    locale = SelectField(_l("Language"), validators=[DataRequired()])
    submit = SubmitField(_l("Invite translator"))

    def __init__(self, *args, challenge: Challenge, **kwargs):
        kwargs.setdefault("prefix", "translator")
        super().__init__(*args, **kwargs)
        codes = sorted((set(LANGUAGES) | set(challenge.available_locales)) - {challenge.default_locale})
        self.locale.choices = [(code, locale_display_name(code)) for code in codes]


def _load(challenge_id: int) -> Challenge:
    """The challenge for its staff and its active translators; 404 for everyone else."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not translations.may_see_translations(challenge, current_user):
        raise NotFound(_l("No such challenge."))
    return challenge


def _back_url(challenge: Challenge) -> str:
    if challenge.is_staff(current_user):
        return url_for("challenge_staff.manage", challenge_id=challenge.id, _anchor="translations")
    return url_for("challenge_staff.my_translations")


def _translate_url(challenge: Challenge, locale: str) -> str:
    return url_for("challenge_staff.translate", challenge_id=challenge.id, locale=locale)


@bp.route("/staff/challenges/<int:challenge_id>/texts/<locale>", methods=["GET", "POST"])
@login_required
def translate(challenge_id: int, locale: str):
    """Edit or add one language's title, summary, description and criteria names."""
    challenge = _load(challenge_id)
    translations.check_locale(locale)
    if not translations.may_translate(challenge, current_user, locale):
        raise Forbidden(_l("Only managers of this center and invited translators of this language can "
                           "translate it."))
    form = TranslationForm()
    for name in ("title", "summary", "description"):
        form[name].render_kw = {"lang": locale.replace("_", "-"), "dir": "auto"}
    if not form.is_submitted():
        for name in ("title", "summary", "description"):
            form[name].data = challenge.text_map(name).get(locale, "")
        for criterion in challenge.criteria:
            form.criteria.append_entry(criterion.name.get(locale, ""))
        return render_translate(challenge, locale, form)
    if not form.validate_on_submit():
        return render_translate(challenge, locale, form, 422)
    data = {name: form[name].data or "" for name in ("title", "summary", "description")}
    if len(form.criteria):
        data["criteria"] = [entry.data or "" for entry in form.criteria]
    was_cleared = challenge.status == "cleared"

    def saved(_mark) -> str:
        if was_cleared and challenge.status == "in_clearance":
            return _("Saved. The challenge went back to clearance because it had changed after clearance.")
        return _("The %(language)s text is saved.", language=locale_display_name(locale))

    return run_action(lambda: translations.save_translation(challenge, current_user, locale, data), form=form,
                      validate=False, success=saved, redirect_to=_back_url(challenge),
                      refused=lambda refusal: render_translate(challenge, locale, form, refusal.status))


def render_translate(challenge: Challenge, locale: str, form, status: int = 200):
    mark = translations.mark_of(challenge, locale)
    return render_template(
        "challenges/staff/translate.html", form=form, challenge=challenge, locale=locale,
        language=locale_display_name(locale), mark=mark, back_url=_back_url(challenge),
        review_refusal=mark.review_refusal(current_user) if mark and mark.status == "translated" else None,
        action_form=ActionForm(formdata=None),
        translatable=translations.is_translatable(challenge)), status


@bp.post("/staff/challenges/<int:challenge_id>/texts/<locale>/review")
@login_required
def review(challenge_id: int, locale: str):
    challenge = _load(challenge_id)
    translations.check_locale(locale)
    return run_action(lambda: translations.review_translation(challenge, current_user, locale), form=ActionForm(),
                      invalid_status=400, redirect_to=_translate_url(challenge, locale),
                      success=_("The %(language)s translation is marked as reviewed.",
                                language=locale_display_name(locale)),
                      refused=lambda refusal: render_translate(challenge, locale, TranslationForm(formdata=None),
                                                               refusal.status))


@bp.post("/staff/challenges/<int:challenge_id>/translators")
@login_required
def invite_translator(challenge_id: int):
    challenge = load_for_staff(challenge_id)
    form = InviteTranslatorForm(challenge=challenge)
    return run_action(
        lambda: translations.invite_translator(challenge, current_user, email=form.email.data or "",
                                               locale=form.locale.data or ""),
        form=form, success=_("The translator is invited and was told by e-mail."),
        redirect_to=_back_url(challenge),
        refused=lambda refusal: render_manage(challenge, refusal.status, translator_form=form))


@bp.post("/staff/challenges/<int:challenge_id>/translators/<int:translator_id>/revoke")
@login_required
def revoke_translator(challenge_id: int, translator_id: int):
    challenge = load_for_staff(challenge_id)
    return run_action(lambda: translations.revoke_translator(challenge, current_user, translator_id),
                      form=ActionForm(), invalid_status=400, success=_("The translator is revoked."),
                      redirect_to=_back_url(challenge),
                      refused=lambda refusal: render_manage(challenge, refusal.status))


@bp.get("/me/translations")
@login_required
def my_translations():
    """The signed-in translator's work: each challenge and language they were invited for, with its mark."""
    invitations = translations.work_of(current_user)
    marks = translations.marks_of({invitation.challenge_id for invitation in invitations})
    rows = [{"invitation": invitation, "challenge": invitation.challenge,
             "title": invitation.challenge.localized("title", invitation.locale),
             "mark": marks.get((invitation.challenge_id, invitation.locale)),
             "translatable": translations.is_translatable(invitation.challenge)} for invitation in invitations]
    return render_template("challenges/my_translations.html", rows=rows)


def translation_panel(challenge: Challenge) -> dict:
    """What the manage page's Translations section shows (a template global: the page needs no new argument)."""
    marks = translations.marks(challenge)
    invited = translations.translators(challenge)
    return {"languages": [(code, marks.get(code), code in challenge.available_locales)
                          for code in translations.content_locales(challenge, invited)],
            "translators": invited,
            "form": InviteTranslatorForm(formdata=None, challenge=challenge),
            "may_manage": challenge.can_manage(current_user),
            "translatable": translations.is_translatable(challenge)}


def has_translation_work() -> bool:
    """Whether the signed-in user is an active translator of any challenge (the dashboard links their list)."""
    if not current_user.is_authenticated:
        return False
    return db.session.scalar(select(ChallengeTranslator.id).where(
        ChallengeTranslator.user_id == current_user.id, ChallengeTranslator.is_active).limit(1)) is not None


bp.add_app_template_global(translation_panel)
bp.add_app_template_global(has_translation_work)
