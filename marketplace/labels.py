"""Translated names for stored codes (roles, states, kinds), for pages and mails: the one home of every
code-to-word table. `label(table, code)` words one code; the `*_label` functions below are made by
`labeller(table)`, so each table has one function and no module keeps its own.
"""

from collections.abc import Callable

from flask_babel import lazy_gettext as _l


def label(table: dict, code: str | None) -> str:
    """The word for `code` in `table`; an unknown code as it is (so a new state never breaks a page)."""
    return str(table.get(code, code or ""))


def labeller(table: dict, name: str) -> Callable[[str | None], str]:
    """`name`(code): the word for a code of `table` (a named function, so templates can register it)."""
    def word(code: str | None) -> str:
        return label(table, code)

    word.__name__ = word.__qualname__ = name
    return word


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

CHALLENGE_TYPE_LABELS = {
    "ideation": _l("Ideation"),
    "theoretical": _l("Theoretical"),
    "rtp": _l("Reduction to practice"),
    "erfp": _l("Electronic request for proposals"),
}

CHALLENGE_STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_clearance": _l("In clearance"),
    "cleared": _l("Cleared"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "judging": _l("Judging"),
    "awarded": _l("Awarded"),
    "no_award": _l("No award"),
    "cancelled": _l("Cancelled"),
}

IP_TERMS_LABELS = {
    "assignment": _l("IP assigned to the center on award"),
    "exclusive_licence": _l("Exclusive licence to the center"),
    "non_exclusive_licence": _l("Non-exclusive licence to the center"),
    "solver_keeps": _l("Solver keeps all rights"),
}

# The IP terms in plain words, for the challenge page and its API twin (before anyone does any work).
IP_TERMS_EXPLANATIONS = {
    "assignment": _l("If your proposal wins, you transfer the intellectual property in it to the center when "
                     "the award is paid. Until then, and if you do not win, it stays yours."),
    "exclusive_licence": _l("If your proposal wins, you keep the intellectual property but give the center an "
                            "exclusive licence to use it: nobody else, you included, may license it to others."),
    "non_exclusive_licence": _l("If your proposal wins, you keep the intellectual property and give the center "
                                "a licence to use it; you may license it to others too."),
    "solver_keeps": _l("You keep all rights in your proposal, whether or not it wins."),
}

MEMBER_STATUS_LABELS = {
    "invited": _l("Invited"),
    "accepted": _l("Member"),
    "declined": _l("Declined"),
}

# Where a proposal stands for its authors; a proposal's stored status (draft, submitted, withdrawn) is worded
# by the same table, so the two never drift apart.
PROPOSAL_JOURNEY_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "under_review": _l("Under review"),
    "awarded": _l("Awarded"),
    "paid": _l("Paid"),
    "not_awarded": _l("Not awarded"),
    "advanced": _l("Advanced to the next stage"),
    "not_advanced": _l("Did not advance"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Cancelled"),
}


LEDGER_KIND_LABELS = {
    "funding": _l("Funding into escrow"),
    "allocation": _l("Award allocated"),
    "payout": _l("Payout"),
    "refund": _l("Refund to the funder"),
    "reversal": _l("Reversal"),
    "treasury": _l("Treasury move between providers"),
}


def ledger_account_label(code: str) -> str:
    """A ledger account in words ("escrow:challenge:5" -> "Escrow of challenge #5"); unknown codes as they are."""
    kind, _sep, rest = code.partition(":")
    owner, _sep, number = rest.partition(":")
    if kind == "escrow" and owner == "challenge" and number.isdigit():
        return str(_l("Escrow of challenge #%(id)s", id=number))
    if kind == "payable" and owner == "user" and number.isdigit():
        return str(_l("Owed to recipient #%(id)s", id=number))
    if kind == "clearing" and owner in ("manual", "stripe") and not number:
        return str(_l("Bank wires in transit") if owner == "manual" else _l("Stripe in transit"))
    return code


# A stage's state as the public timeline words it (Challenge.stage_status decides it).
STAGE_STATUS_LABELS = {
    "upcoming": _l("Upcoming"),
    "open": _l("Open for proposals"),
    "judging": _l("Being judged"),
    "decided": _l("Finished"),
}


# What the manage page's history shows of a challenge's audit trail (other entries stay in the audit log).
CHALLENGE_HISTORY_LABELS = {
    "challenge.created": _l("Draft created"),
    "challenge.edited": _l("Edited"),
    "challenge.clearance_requested": _l("Clearance requested"),
    "challenge.clearance_request_refused": _l("Clearance request refused"),
    "challenge.cleared": _l("Cleared for publication"),
    "challenge.clearance_rejected": _l("Clearance rejected"),
    "challenge.clearance_refused": _l("Clearance decision refused"),
    "challenge.clearance_revoked_by_edit": _l("Back to clearance after an edit"),
    "funding.requested": _l("Funding requested"),
    "funding.receipt_recorded": _l("Bank receipt recorded"),
    "challenge.funded": _l("Award funded"),
    "challenge.funding_short": _l("Award no longer fully funded"),
    "challenge.published": _l("Published"),
    "challenge.publication_refused": _l("Publication refused"),
    "challenge.amended": _l("Amended"),
    "challenge.translation_saved": _l("Translation saved"),
    "challenge.translation_reviewed": _l("Translation reviewed"),
    "challenge.translator_invited": _l("Translator invited"),
    "challenge.translator_revoked": _l("Translator revoked"),
    "challenge.closed": _l("Closed"),
    "challenge.cancelled": _l("Cancelled"),
}


def audit_action_label(code: str) -> str:
    """The history label of an audit action, or "" for actions the history leaves out."""
    return label(CHALLENGE_HISTORY_LABELS, code) if code in CHALLENGE_HISTORY_LABELS else ""


# The sections of a solver's profile, as its pages title them.
PROFILE_FIELD_LABELS = {
    "headline": _l("Headline"),
    "bio": _l("About me"),
    "expertise": _l("Expertise"),
    "affiliation": _l("Affiliation"),
    "orcid": _l("ORCID iD"),
    "research_history": _l("Research history"),
    "latest_progress": _l("Latest progress"),
    "languages": _l("Languages spoken"),
    "early_career": _l("Early-career researcher"),
    "awards": _l("Awards won"),
}


# The kinds of a solver's research history rows (also the allowed kinds).
RESEARCH_KIND_LABELS = {
    "publication": _l("Publication"),
    "patent": _l("Patent"),
    "project": _l("Project"),
    "grant": _l("Grant"),
    "thesis": _l("Thesis"),
    "other": _l("Other"),
}


# --- reviews ------------------------------------------------------------------------------------

REVIEW_STATUS_LABELS = {
    "assigned": _l("Not started"),
    "draft": _l("Draft saved"),
    "submitted": _l("Submitted"),
    "released": _l("Released"),
}

# An appeal's state: open until its answer says upheld or rescored.
APPEAL_OUTCOME_LABELS = {"open": _l("Waiting for an answer"), "upheld": _l("Score upheld"), "rescored": _l("Rescored")}

# Conflict-of-interest reason codes as staff read them (the codes are reviews.conflicts.rules' constants, written
# out here so labels imports no domain package; a test checks every rule has its words).
CONFLICT_REASON_LABELS = {
    "same_person": _l("Same person as an author"),
    "same_team": _l("Member of the proposal's team"),
    "solver_in_challenge": _l("Solver in this challenge"),
    "same_organization": _l("Same organization as an author (now or in the last 12 months)"),
    "same_email_domain": _l("Same e-mail domain as an author"),
    "coauthor": _l("Co-author of an author in the last 48 months"),
    "advisor": _l("Advisor or advisee of an author"),
    "declared_by_reviewer": _l("Declared by the reviewer"),
    "declared_by_solver": _l("Excluded by the solver"),
    "same_country": _l("Same country as an author (rule of this challenge)"),
}

# A reviewer's recommendation (its codes are also the allowed ones: reviews.scoring.RECOMMENDATIONS).
RECOMMENDATION_LABELS = {
    "award": _l("Award"),
    "consider": _l("Consider for an award"),
    "reject": _l("Do not award"),
}

# Krippendorff's alpha levels of a ranking (reviews.ranking.reliability decides the level), and what each means.
ALPHA_LEVEL_LABELS = {
    "excellent": _l("Excellent agreement"), "good": _l("Good agreement"), "moderate": _l("Moderate agreement"),
    "fair": _l("Fair agreement"), "poor": _l("Poor agreement"), "insufficient_data": _l("Not enough data"),
}
ALPHA_EXPLANATIONS = {
    "excellent": _l("Reviewers agree strongly; the ranking reflects a shared judgement."),
    "good": _l("Reviewers agree well enough for tentative conclusions; check close calls by reading the reviews."),
    "moderate": _l("Reviewers agree only moderately; small score differences between proposals are not meaningful."),
    "fair": _l("Reviewers agree little beyond chance; use the ranking as a rough guide and read the reviews."),
    "poor": _l("Reviewers barely agree beyond chance; the scores cannot separate the proposals by themselves."),
    "insufficient_data": _l("Too few proposals were scored by more than one reviewer, or all scores are equal, to "
                            "measure agreement."),
}

# Why a ranked proposal deserves a second look.
RANKING_FLAG_LABELS = {
    "few_reviews": _l("Fewer than 3 reviews"),
    "wide_range": _l("Reviewers disagree (scores 4 or more points apart)"),
    "outlying_review": _l("A review far from what the model expects"),
    "biased_reviewer": _l("Reviewed by a strongly harsh or lenient reviewer"),
    "grey_zone": _l("Grey zone: its interval crosses the award cut"),
}

# The band of the field a proposal ranked in, as its authors read it in their feedback.
RANK_BAND_LABELS = {
    "top_10": _l("Top 10 %"), "top_25": _l("Top 25 %"), "top_50": _l("Top half"), "lower_50": _l("Lower half"),
}


# --- payments -----------------------------------------------------------------------------------

# An award's and a payout's states: one table, as they share their words where their codes meet
# (paying, paid, cancelled).
PAYMENT_STATUS_LABELS = {
    "awarded": _l("Awarded, waiting for release"),
    "release_requested": _l("Release requested, waiting for a second approval"),
    "pending": _l("Waiting for the payment provider"),
    "paying": _l("Being paid"),
    "sent": _l("Bank wire sent, waiting for confirmation"),
    "paid": _l("Paid"),
    "failed": _l("Failed: finance will retry"),
    "reversed": _l("Taken back by the provider: finance will pay again"),
    "cancelled": _l("Cancelled"),
    "refused": _l("Refused"),
}

REFUND_STATUS_LABELS = {
    "scheduled": _l("To send"),
    "sending": _l("Being sent"),
    "sent": _l("Bank wire sent, waiting for confirmation"),
    "succeeded": _l("Refunded"),
    "failed": _l("Failed"),
}

# Where a finding sits: in a challenge's public texts (challenges.clearance) or a proposal (reviews.blind).
TEXT_PLACE_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "description": _l("Full description"),
    "abstract": _l("Abstract"),  # a proposal's parts (identity flags)
    "body": _l("Proposal"),
}


def text_place_label(place: str | None) -> str:
    """`title`, `criteria#2`, `criteria#2.1` (stage 2, criterion 1), `stages#2.name`, `attachment-1` in words."""
    kind, _hash, number = (place or "").partition("#")
    if kind == "criteria" and number:
        stage, _dot, position = number.rpartition(".")
        if stage:
            return str(_l("Stage %(stage)s, criterion %(n)s", stage=stage, n=position))
        return str(_l("Criterion %(n)s", n=number))
    if kind == "stages" and number:
        stage, _dot, part = number.partition(".")
        if part == "description":
            return str(_l("Stage %(stage)s, description", stage=stage))
        return str(_l("Stage %(stage)s, name", stage=stage))
    if kind.startswith("attachment-"):  # a proposal's attachment, from reviews.blind.identity_flags
        return str(_l("Attachment %(n)s", n=kind.removeprefix("attachment-")))
    return label(TEXT_PLACE_LABELS, place)


# --- one function per table ---------------------------------------------------------------------

proposal_journey_label = labeller(PROPOSAL_JOURNEY_LABELS, "proposal_journey_label")
ledger_kind_label = labeller(LEDGER_KIND_LABELS, "ledger_kind_label")
proposal_status_label = labeller(PROPOSAL_JOURNEY_LABELS, "proposal_status_label")
member_status_label = labeller(MEMBER_STATUS_LABELS, "member_status_label")
challenge_type_label = labeller(CHALLENGE_TYPE_LABELS, "challenge_type_label")
challenge_status_label = labeller(CHALLENGE_STATUS_LABELS, "challenge_status_label")
stage_status_label = labeller(STAGE_STATUS_LABELS, "stage_status_label")
ip_terms_label = labeller(IP_TERMS_LABELS, "ip_terms_label")
ip_terms_explanation = labeller(IP_TERMS_EXPLANATIONS, "ip_terms_explanation")
role_label = labeller(ROLE_LABELS, "role_label")
mail_status_label = labeller(MAIL_STATUS_LABELS, "mail_status_label")
profile_field_label = labeller(PROFILE_FIELD_LABELS, "profile_field_label")
research_kind_label = labeller(RESEARCH_KIND_LABELS, "research_kind_label")
review_status_label = labeller(REVIEW_STATUS_LABELS, "review_status_label")
appeal_outcome_label = labeller(APPEAL_OUTCOME_LABELS, "appeal_outcome_label")
conflict_reason_label = labeller(CONFLICT_REASON_LABELS, "conflict_reason_label")
recommendation_label = labeller(RECOMMENDATION_LABELS, "recommendation_label")
alpha_level_label = labeller(ALPHA_LEVEL_LABELS, "alpha_level_label")
alpha_explanation = labeller(ALPHA_EXPLANATIONS, "alpha_explanation")
ranking_flag_label = labeller(RANKING_FLAG_LABELS, "ranking_flag_label")
rank_band_label = labeller(RANK_BAND_LABELS, "rank_band_label")
award_status_label = labeller(PAYMENT_STATUS_LABELS, "award_status_label")
payout_status_label = labeller(PAYMENT_STATUS_LABELS, "payout_status_label")
refund_status_label = labeller(REFUND_STATUS_LABELS, "refund_status_label")
