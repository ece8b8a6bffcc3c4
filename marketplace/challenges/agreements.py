"""Challenge agreements: versioned templates per organization, acceptance, amendment notices."""

from __future__ import annotations

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges.agreement_models import AgreementAcceptance, AgreementTemplate
from marketplace.challenges.models import Challenge
from marketplace.content_locales import is_content_locale
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail

CHALLENGE_AMENDED = "challenge_amended"


def _amended_text(payload: dict, locale: str) -> str:
    from flask_babel import gettext as _

    from marketplace.solvers.notifications import localized_title

    if payload.get("requires_reacceptance"):
        return _("“%(title)s” was amended; accept its agreement again before your next submission.",
                 title=localized_title(payload, locale))
    return _("“%(title)s” was amended.", title=localized_title(payload, locale))


def register_notification() -> None:
    from marketplace.solvers.notifications import register_kind

    register_kind(CHALLENGE_AMENDED, text=_amended_text,
                  link=lambda payload: f"/challenges/{payload['challenge_id']}")

PLATFORM_TEMPLATE_VERSION = "platform-1"
PLATFORM_GOVERNING_LAW = (
    "Laws of the People's Republic of China; disputes before the Shanghai International Arbitration Center"
)
PLATFORM_TEXTS = {
    "en": (
        "## 1. Scope of knowledge use\n"
        "You may use the information in this challenge only to prepare and submit your proposal. "
        "You will not use it for any other purpose.\n\n"
        "## 2. Confidentiality\n"
        "The full description, the criteria, clarifications and any material you receive are confidential. "
        "You will not disclose them to anyone outside your team. Your proposal is confidential too: only the "
        "center's staff and the assigned reviewers see it.\n\n"
        "## 3. Intellectual property\n"
        "You keep all rights in your proposal unless it receives an award. On award, and against payment of "
        "the award, the intellectual property in the awarded solution passes to the center as the challenge's "
        "IP terms state.\n\n"
        "## 4. Governing law\n"
        "This agreement is governed by the laws of the People's Republic of China; disputes are settled by "
        "the Shanghai International Arbitration Center, in English or Chinese."
    ),
    "zh_Hans": (
        "## 1. 知识使用范围\n"
        "您仅可将本挑战中的信息用于准备和提交您的方案，不得用于任何其他目的。\n\n"
        "## 2. 保密\n"
        "完整描述、评审标准、澄清答复以及您收到的任何材料均属保密信息，您不得向团队以外的任何人披露。"
        "您的方案同样保密：只有中心工作人员和指定的评审专家可以查看。\n\n"
        "## 3. 知识产权\n"
        "在获奖之前，您保留方案的全部权利。获奖并收到奖金后，获奖方案的知识产权按本挑战的知识产权条款转让给中心。\n\n"
        "## 4. 适用法律\n"
        "本协议适用中华人民共和国法律；争议由上海国际仲裁中心以中文或英文仲裁解决。"
    ),
}


def current_template(organization) -> AgreementTemplate:
    """The organization's newest agreement template, or the platform default (created on first use)."""
    template = db.session.scalar(
        select(AgreementTemplate)
        .where(AgreementTemplate.organization_id == organization.id)
        .order_by(AgreementTemplate.id.desc())
        .limit(1)
    )
    if template is None:
        template = AgreementTemplate(
            organization_id=organization.id,
            version=PLATFORM_TEMPLATE_VERSION,
            governing_law=PLATFORM_GOVERNING_LAW,
            texts=PLATFORM_TEXTS,
        )
        db.session.add(template)
        db.session.flush()
    return template


def publish_template(
    organization, *, version: str, governing_law: str, texts: dict[str, str], actor
) -> AgreementTemplate:
    if not texts or any(not is_content_locale(locale) or not text.strip() for locale, text in texts.items()):
        raise ValidationFailed(
            _l("Give the agreement text in at least one known language."),
            errors={"texts": [_l("Give the agreement text in at least one known language.")]},
        )
    if db.session.scalar(select(AgreementTemplate.id).filter_by(organization_id=organization.id, version=version)):
        raise Conflict(_l("This version exists already; agreements are never changed in place."))
    template = AgreementTemplate(
        organization_id=organization.id, version=version, governing_law=governing_law, texts=texts
    )
    db.session.add(template)
    db.session.flush()
    record("agreement.published", "organization", organization.id, actor=actor, version=version)
    return template


def agreement_for(challenge: Challenge) -> dict:
    """What a solver accepts: the template text plus this challenge's IP terms, under the challenge's version."""
    base_version = (challenge.agreement_version or PLATFORM_TEMPLATE_VERSION).split("+")[0]
    template = db.session.scalar(
        select(AgreementTemplate).filter_by(organization_id=challenge.organization_id, version=base_version)
    ) or current_template(challenge.organization)
    return {
        "version": challenge.agreement_version or template.version,
        "text": template.texts,
        "governing_law": template.governing_law,
        "ip_terms": challenge.ip_terms,
    }


def has_accepted(challenge: Challenge, user) -> bool:
    if not user or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(AgreementAcceptance.id).filter_by(
                challenge_id=challenge.id, user_id=user.id, version=challenge.agreement_version
            )
        )
        is not None
    )


def has_accepted_any_version(challenge: Challenge, user) -> bool:
    return (
        db.session.scalar(select(AgreementAcceptance.id).filter_by(challenge_id=challenge.id, user_id=user.id).limit(1))
        is not None
    )


def accept(challenge: Challenge, user, *, version: str) -> AgreementAcceptance:
    if challenge.shown_status != "open":
        raise Conflict(_l("Agreements can be accepted only while the challenge is open."))
    problem = challenge.participation_refusal(user)
    if problem:
        raise Forbidden(problem)
    if version != challenge.agreement_version:
        raise Conflict(
            _l(
                "The agreement has changed (now version %(version)s). Read it again and accept the current version.",
                version=challenge.agreement_version,
            )
        )
    existing = db.session.scalar(
        select(AgreementAcceptance).filter_by(challenge_id=challenge.id, user_id=user.id, version=version)
    )
    if existing:
        return existing
    acceptance = AgreementAcceptance(
        challenge_id=challenge.id,
        user_id=user.id,
        version=version,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(acceptance)
    db.session.flush()
    record("agreement.accepted", "challenge", challenge.id, actor=user, version=version)
    return acceptance


def notify_amendment(challenge: Challenge, amendment) -> None:
    """Mail and notify every solver who accepted any version of the agreement, in their own language."""
    from marketplace.accounts.models import User
    from marketplace.solvers import notifications

    users = db.session.scalars(
        select(User).where(
            User.id.in_(select(AgreementAcceptance.user_id).where(AgreementAcceptance.challenge_id == challenge.id))
        )
    ).all()
    payload = {"challenge_id": challenge.id, "title": challenge.text_map("title"),
               "default_locale": challenge.default_locale, "requires_reacceptance": amendment.requires_reacceptance}
    for user in users:
        notifications.add(user.id, CHALLENGE_AMENDED, payload, mailed=True)
        locale, title = challenge.localized("title", user.locale)
        queue_mail(
            user.email,
            "challenge_amended",
            locale=user.locale,
            user=user,
            challenge=challenge,
            title=title,
            amendment=amendment,
            note=amendment.note.get(locale) or amendment.note.get(challenge.default_locale),
        )
