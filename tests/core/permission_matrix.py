"""Who may do what: every HTML route and API operation x every outsider role -> the expected outcome.

The callers are outsiders to everything in the world (tests/core/test_permission_matrix.py):
anonymous, an unrelated solver, and the center manager, security officer, finance officer and
reviewer of a third organization that owns nothing. Each row is "METHOD rule" (as in app.url_map)
and six letters, one per role in ROLES order:

  D  deny:   never 2xx, and nothing is written (no new audit entry but the record of a refusal).
  P  public: 2xx only when every object named in the path is public (an open, closed, judging or
             awarded challenge; a published result); the body never shows a private marker.
  A  act:    like P, but the caller may change something of its own there (accept an agreement,
             ask a question, start a proposal), so audit entries are expected.
  S  scoped: about the caller itself or what its own role covers (its profile, its organization's
             empty lists); 2xx is fine, private markers of others never are.
  -  not called (the reason is in SKIPPED).

A new route that is not in this table fails the test, so the table stays complete.
"""

from __future__ import annotations

ROLES = ("anonymous", "solver", "manager", "security", "finance", "reviewer")

DENY = "DDDDDD"
PUBLIC = "PPPPPP"
OPEN = "SSSSSS"      # pages and operations about no one's objects (home, sign-in, browse)
MINE = "DSSSSS"      # the signed-in caller's own things
ACT = "DAAAAA"       # signed-in callers acting on a public object
STAFF = "DDSSSS"     # any organization's staff, scoped to their own organization
SECURITY = "DDDSDD"  # security officers, scoped to their own organization
SKIP = "------"

SKIPPED = {
    "POST /auth/logout": "would end the caller's session for the rest of the run",
    "GET /static/<path:filename>": "static files",
    "GET /reminders/static/<path:filename>": "static files",
    "POST /api/v1/webhooks/stripe": "signature-checked; covered by tests/payments/test_webhooks.py",
}

API = {
    # accounts, organizations, pricing
    "POST /api/v1/auth/confirm": OPEN, "POST /api/v1/auth/password-reset": OPEN,
    "POST /api/v1/auth/password-reset/confirm": OPEN, "POST /api/v1/auth/register": OPEN,
    "POST /api/v1/auth/tokens": OPEN, "GET /api/v1/openapi.json": OPEN,
    "GET /api/v1/me": MINE, "PUT /api/v1/me": MINE,
    "GET /api/v1/me/tokens": MINE, "DELETE /api/v1/me/tokens/<int:token_id>": DENY,
    "POST /api/v1/me/password": MINE, "POST /api/v1/me/email": MINE, "POST /api/v1/me/email/confirm": MINE,
    "GET /api/v1/organizations": OPEN, "POST /api/v1/organizations": DENY,
    "GET /api/v1/award-quote": OPEN, "PUT /api/v1/benchmark-rates": DENY, "PUT /api/v1/fx-rates": DENY,
    # analytics and exports
    "GET /api/v1/analytics/challenges/<int:challenge_id>": DENY,
    "GET /api/v1/analytics/platform": DENY,
    "GET /api/v1/analytics/programs/<int:program_id>": DENY,
    "GET /api/v1/stats": OPEN,
    "GET /api/v1/exports/challenges/<int:challenge_id>/<any(proposals, ranking, payouts, analytics):kind>": DENY,
    "GET /api/v1/exports/platform/analytics": DENY,
    "GET /api/v1/exports/programs/<int:program_id>/analytics": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/early-career-bonus": PUBLIC,
    "PUT /api/v1/challenges/<int:challenge_id>/early-career-bonus": DENY,
    # audit
    "GET /api/v1/audit": SECURITY, "GET /api/v1/audit/verify": SECURITY,
    # challenges
    "GET /api/v1/challenges": OPEN, "POST /api/v1/challenges": DENY,
    "GET /api/v1/challenges/<int:challenge_id>": PUBLIC,
    "PATCH /api/v1/challenges/<int:challenge_id>": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/agreement": PUBLIC,
    "POST /api/v1/challenges/<int:challenge_id>/agreement": ACT,
    "GET /api/v1/challenges/<int:challenge_id>/amendments": PUBLIC,
    "POST /api/v1/challenges/<int:challenge_id>/amendments": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/cancel": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/clearance": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/clearance-request": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/close": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/funding": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/funding/receipts": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/publish": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/questions": PUBLIC,
    "POST /api/v1/challenges/<int:challenge_id>/questions": ACT,
    "POST /api/v1/questions/<int:question_id>/answer": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/results": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/translations": DENY,
    "PUT /api/v1/challenges/<int:challenge_id>/translations/<locale>": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/translations/<locale>/review": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/translators": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/translators": DENY,
    "DELETE /api/v1/challenges/<int:challenge_id>/translators/<int:translator_id>": DENY,
    # stages (the lead's core API and the per-stage figures, staff only)
    "GET /api/v1/challenges/<int:challenge_id>/stages": PUBLIC,
    "PUT /api/v1/challenges/<int:challenge_id>/stages": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/stages/<int:stage_id>/advance": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/stages/analytics": DENY,
    # programs
    "GET /api/v1/programs": MINE, "POST /api/v1/programs": DENY,
    "GET /api/v1/programs/<int:program_id>": DENY,
    "GET /api/v1/programs/<int:program_id>/composition": DENY,
    "POST /api/v1/programs/<int:program_id>/requirements": DENY,
    # proposals
    "GET /api/v1/challenges/<int:challenge_id>/proposals": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/proposals": ACT,
    "GET /api/v1/me/proposals": MINE,
    "GET /api/v1/proposals/<int:proposal_id>": DENY, "PATCH /api/v1/proposals/<int:proposal_id>": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/attachments": DENY,
    "DELETE /api/v1/proposals/<int:proposal_id>/attachments/<int:attachment_id>": DENY,
    "GET /api/v1/attachments/<int:attachment_id>": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/submit": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/discard": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/withdraw": DENY,
    "GET /api/v1/proposals/<int:proposal_id>/versions": DENY,
    "GET /api/v1/proposals/<int:proposal_id>/receipt": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/team/invitation": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/team/invitations": DENY,
    "PUT /api/v1/proposals/<int:proposal_id>/team/shares": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/team/shares/agree": DENY,
    # reviews
    "GET /api/v1/challenges/<int:challenge_id>/assignments": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/assignments": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/conflicts": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/identity-flags": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/ranking": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/review-progress": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/review-settings": DENY,
    "PUT /api/v1/challenges/<int:challenge_id>/review-settings": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/reviewer-agreement": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/reviewer-agreement": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/reviewer-suggestions": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/reviewers": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/reviewers": DENY,
    "DELETE /api/v1/challenges/<int:challenge_id>/reviewers/<int:user_id>": DENY,
    "POST /api/v1/clarifications/<int:clarification_id>/answer": DENY,
    "GET /api/v1/me/reviews": MINE,
    "GET /api/v1/proposals/<int:proposal_id>/clarifications": DENY,
    "GET /api/v1/proposals/<int:proposal_id>/exclusions": DENY,
    "POST /api/v1/proposals/<int:proposal_id>/exclusions": DENY,
    "DELETE /api/v1/proposals/<int:proposal_id>/exclusions/<int:exclusion_id>": DENY,
    "GET /api/v1/proposals/<int:proposal_id>/feedback": DENY,
    "GET /api/v1/reviews/<int:review_id>": DENY, "PUT /api/v1/reviews/<int:review_id>": DENY,
    "GET /api/v1/reviews/<int:review_id>/attachments/<int:index>": DENY,
    "POST /api/v1/reviews/<int:review_id>/clarifications": DENY,
    "POST /api/v1/reviews/<int:review_id>/conflict": DENY,
    "POST /api/v1/reviews/<int:review_id>/submit": DENY,
    # appeals of provisional scores
    "POST /api/v1/challenges/<int:challenge_id>/provisional-scores": DENY,
    "GET /api/v1/challenges/<int:challenge_id>/appeals": DENY,
    "GET /api/v1/proposals/<int:proposal_id>/scores": DENY, "POST /api/v1/proposals/<int:proposal_id>/appeals": DENY,
    "GET /api/v1/appeals/<int:appeal_id>": DENY, "POST /api/v1/appeals/<int:appeal_id>/answer": DENY,
    # awards and payments
    "GET /api/v1/challenges/<int:challenge_id>/awards": DENY,
    "POST /api/v1/challenges/<int:challenge_id>/awards": DENY,
    "GET /api/v1/awards/<int:award_id>": DENY,
    "POST /api/v1/awards/<int:award_id>/approve": DENY, "POST /api/v1/awards/<int:award_id>/cancel": DENY,
    "GET /api/v1/awards/<int:award_id>/ip-assignment": DENY,
    "POST /api/v1/awards/<int:award_id>/ip-assignment": DENY,
    "POST /api/v1/awards/<int:award_id>/payout-confirmation": DENY,
    "POST /api/v1/awards/<int:award_id>/release": DENY,
    "GET /api/v1/me/awards": MINE, "GET /api/v1/me/payee": MINE, "PUT /api/v1/me/payee": MINE,
    "GET /api/v1/me/payout-account": MINE, "POST /api/v1/me/payout-account": MINE,
    "POST /api/v1/challenges/<int:challenge_id>/review-reminders": DENY,
    "GET /api/v1/finance/ledger": STAFF, "GET /api/v1/finance/ledger.csv": STAFF,
    "GET /api/v1/finance/refunds": STAFF,
    "POST /api/v1/refunds/<int:refund_id>/confirmation": DENY, "POST /api/v1/refunds/<int:refund_id>/send": DENY,
    # results (the open results database)
    "GET /api/v1/results": OPEN, "GET /api/v1/results/<int:result_id>": PUBLIC,
    "PATCH /api/v1/results/<int:result_id>": DENY,
    "GET /api/v1/results/<int:result_id>/citation.bib": PUBLIC,
    "GET /api/v1/results/<int:result_id>/citation.json": PUBLIC,
    "GET /api/v1/results/<int:result_id>/consent": DENY, "POST /api/v1/results/<int:result_id>/consent": DENY,
    "GET /api/v1/results/<int:result_id>/follow-ons": PUBLIC,
    "POST /api/v1/results/<int:result_id>/follow-ons": DENY,
    "POST /api/v1/results/<int:result_id>/publish": DENY, "POST /api/v1/results/<int:result_id>/withdraw": DENY,
    # solvers
    "GET /api/v1/expertise-vocabulary": OPEN, "GET /api/v1/experts": STAFF,
    "GET /api/v1/solvers/<int:user_id>": OPEN,
    "GET /api/v1/me/profile": MINE, "PUT /api/v1/me/profile": MINE,
    "GET /api/v1/me/interests": MINE, "POST /api/v1/me/interests": MINE, "DELETE /api/v1/me/interests": MINE,
    "DELETE /api/v1/me/interests/<int:interest_id>": DENY,
    "GET /api/v1/me/alert-settings": MINE, "PUT /api/v1/me/alert-settings": MINE,
    "GET /api/v1/me/notifications": MINE, "POST /api/v1/me/notifications/read": MINE,
    "GET /api/v1/me/calendar-url": MINE, "POST /api/v1/me/calendar-url": MINE,
    "DELETE /api/v1/me/calendar-url": MINE,
}

PAGES = {
    "GET /": OPEN, "POST /language": OPEN, "GET /account": MINE, "POST /account": MINE,
    "GET /admin/outbox": DENY,
    "GET /account/security": MINE, "POST /account/password": MINE, "POST /account/email": MINE,
    "GET /account/email/confirm/<token>": MINE, "POST /account/tokens/<int:token_id>/revoke": DENY,
    "GET /auth/confirm/<token>": OPEN, "POST /auth/confirm/resend": OPEN,
    "GET /auth/login": OPEN, "POST /auth/login": OPEN, "GET /auth/register": OPEN, "POST /auth/register": OPEN,
    "GET /auth/reset": OPEN, "POST /auth/reset": OPEN, "GET /auth/reset/<token>": OPEN,
    "POST /auth/reset/<token>": OPEN, "GET /award-quote": OPEN,
    # challenges (public side)
    "GET /challenges": OPEN, "GET /challenges/<int:challenge_id>": PUBLIC,
    "POST /challenges/<int:challenge_id>/agreement": ACT, "POST /challenges/<int:challenge_id>/questions": ACT,
    "GET /challenges/<int:challenge_id>/proposals/new": ACT, "POST /challenges/<int:challenge_id>/proposals/new": ACT,
    # challenges (staff side)
    "GET /staff/challenges": STAFF, "GET /staff/challenges/new": STAFF, "POST /staff/challenges/new": STAFF,
    "GET /staff/clearance": STAFF, "GET /staff/funding": STAFF,
    "GET /staff/challenges/<int:challenge_id>": DENY,
    "POST /staff/challenges/<int:challenge_id>/amend": DENY, "POST /staff/challenges/<int:challenge_id>/cancel": DENY,
    "POST /staff/challenges/<int:challenge_id>/clearance": DENY,
    "POST /staff/challenges/<int:challenge_id>/clearance-request": DENY,
    "POST /staff/challenges/<int:challenge_id>/close": DENY,
    "GET /staff/challenges/<int:challenge_id>/edit": DENY, "POST /staff/challenges/<int:challenge_id>/edit": DENY,
    "POST /staff/challenges/<int:challenge_id>/funding": DENY,
    "POST /staff/challenges/<int:challenge_id>/publish": DENY,
    "POST /staff/challenges/<int:challenge_id>/receipts": DENY,
    "GET /staff/challenges/<int:challenge_id>/texts/<locale>": DENY,
    "POST /staff/challenges/<int:challenge_id>/texts/<locale>": DENY,
    "POST /staff/challenges/<int:challenge_id>/texts/<locale>/review": DENY,
    "POST /staff/challenges/<int:challenge_id>/translators": DENY,
    "POST /staff/challenges/<int:challenge_id>/translators/<int:translator_id>/revoke": DENY,
    "GET /me/translations": MINE,
    "POST /staff/questions/<int:question_id>/answer": DENY,
    "GET /staff/challenges/<int:challenge_id>/stages": DENY, "POST /staff/challenges/<int:challenge_id>/stages": DENY,
    "GET /staff/challenges/<int:challenge_id>/stages/<int:stage_id>/advance": DENY,
    "POST /staff/challenges/<int:challenge_id>/stages/<int:stage_id>/advance": DENY,
    # analytics and exports
    "GET /stats": OPEN, "GET /staff/analytics": STAFF, "GET /staff/analytics/platform": DENY,
    "GET /staff/analytics/challenges/<int:challenge_id>": DENY,
    "GET /staff/analytics/programs/<int:program_id>": DENY,
    "GET /staff/challenges/<int:challenge_id>/early-career-bonus": DENY,
    "POST /staff/challenges/<int:challenge_id>/early-career-bonus": DENY,
    "GET /staff/exports/challenges/<int:challenge_id>/<any(proposals, ranking, payouts, analytics):kind>"
    ".<any(csv, xlsx):fmt>": DENY,
    "GET /staff/exports/platform/analytics.<any(csv, xlsx):fmt>": DENY,
    "GET /staff/exports/programs/<int:program_id>/analytics.<any(csv, xlsx):fmt>": DENY,
    # programs
    "GET /programs": STAFF, "POST /programs": DENY, "GET /programs/<int:program_id>": DENY,
    "POST /programs/<int:program_id>/requirements": DENY,
    # proposals
    "GET /me/dashboard": MINE, "GET /attachments/<int:attachment_id>": DENY,
    "GET /proposals/<int:proposal_id>": DENY, "POST /proposals/<int:proposal_id>/attachments": DENY,
    "POST /proposals/<int:proposal_id>/attachments/<int:attachment_id>/remove": DENY,
    "POST /proposals/<int:proposal_id>/edit": DENY, "POST /proposals/<int:proposal_id>/submit": DENY,
    "POST /proposals/<int:proposal_id>/withdraw": DENY, "POST /proposals/<int:proposal_id>/discard": DENY,
    "GET /proposals/<int:proposal_id>/receipt.txt": DENY,
    "POST /proposals/<int:proposal_id>/team/invitation": DENY, "POST /proposals/<int:proposal_id>/team/invite": DENY,
    "POST /proposals/<int:proposal_id>/team/shares": DENY, "POST /proposals/<int:proposal_id>/team/shares/agree": DENY,
    "POST /proposals/<int:proposal_id>/clarifications/<int:clarification_id>/answer": DENY,
    "POST /proposals/<int:proposal_id>/exclusions": DENY,
    "POST /proposals/<int:proposal_id>/exclusions/<int:exclusion_id>/remove": DENY,
    # reviews
    "GET /reviews": MINE, "GET /reviews/<int:review_id>": DENY, "POST /reviews/<int:review_id>": DENY,
    "GET /reviews/<int:review_id>/attachments/<int:index>": DENY,
    "POST /reviews/<int:review_id>/clarifications": DENY, "POST /reviews/<int:review_id>/conflict": DENY,
    "GET /reviews/agreement/<int:challenge_id>": DENY, "POST /reviews/agreement/<int:challenge_id>": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/assignment": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/assignment": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/decision": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/decision": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/pool": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/pool": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/pool/<int:user_id>": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/pool/<int:user_id>/remove": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/progress": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/ranking": DENY,
    "GET /staff/challenges/<int:challenge_id>/review/appeals": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/provisional-scores": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/appeal-window": DENY,
    "GET /reviews/appeals": MINE, "POST /appeals/<int:appeal_id>/answer": DENY,
    "GET /proposals/<int:proposal_id>/scores": DENY, "POST /proposals/<int:proposal_id>/appeals": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/settings": DENY,
    # awards and payments
    "GET /awards/<int:award_id>/ip-assignment": DENY, "POST /awards/<int:award_id>/ip-assignment": DENY,
    "POST /staff/challenges/<int:challenge_id>/review/reminders": DENY,
    "GET /finance": STAFF, "GET /finance/ledger": STAFF, "GET /finance/ledger.csv": STAFF,
    "GET /finance/awards/<int:award_id>": DENY,
    "POST /finance/awards/<int:award_id>/approve": DENY, "POST /finance/awards/<int:award_id>/confirm": DENY,
    "POST /finance/awards/<int:award_id>/release": DENY,
    "POST /finance/refunds/<int:refund_id>/confirm": DENY, "POST /finance/refunds/<int:refund_id>/send": DENY,
    "GET /me/payee": MINE, "POST /me/payee": MINE, "GET /me/payments": MINE, "POST /me/payout-account": MINE,
    "GET /me/payout-account/refresh": MINE, "GET /me/payout-account/return": MINE,
    # results
    "GET /results": OPEN, "GET /results/feed.atom": OPEN, "GET /results/<int:result_id>": PUBLIC,
    "GET /results/<int:result_id>/consent": DENY, "POST /results/<int:result_id>/consent": DENY,
    "GET /staff/challenges/<int:challenge_id>/results/new": DENY,
    "POST /staff/challenges/<int:challenge_id>/results/new": DENY,
    "GET /staff/results/<int:result_id>/edit": DENY, "POST /staff/results/<int:result_id>/edit": DENY,
    "POST /staff/results/<int:result_id>/follow-on": DENY, "POST /staff/results/<int:result_id>/publish": DENY,
    "POST /staff/results/<int:result_id>/withdraw": DENY,
    # solvers
    "GET /me/profile": MINE, "POST /me/profile": MINE, "GET /me/alerts": MINE, "POST /me/alerts/follow": MINE,
    "POST /me/alerts/settings": MINE, "POST /me/alerts/<int:interest_id>/remove": DENY,
    "GET /me/notifications": MINE, "POST /me/notifications/read": MINE,
    "GET /me/calendar.ics": OPEN, "GET /calendar/<token>.ics": OPEN,
    "GET /challenges/<int:challenge_id>/calendar.ics": PUBLIC,
    "POST /me/calendar-url": MINE, "POST /me/calendar-url/revoke": MINE,
    "GET /solvers/<int:user_id>": OPEN, "GET /staff/experts": STAFF, "GET /staff/experts/<int:user_id>": STAFF,
}

TABLE = {**API, **PAGES, **{key: SKIP for key in SKIPPED}}


def expected(key: str, role: str) -> str:
    return TABLE[key][ROLES.index(role)]
