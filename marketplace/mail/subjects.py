"""Every mail's subject line, by template name (mail/templates/mail/<name>.txt): the one registry.

No module registers a subject when it is imported, so a mail's subject is found here whether or
not its package was imported. Each is a callable evaluated inside force_locale, so every
recipient gets their own language.
"""

from __future__ import annotations

from flask_babel import gettext as _

SUBJECTS = {
    # accounts
    "confirm_email": lambda: _("Confirm your InnoBridge e-mail address"),
    "reset_password": lambda: _("Reset your InnoBridge password"),
    "confirm_email_change": lambda: _("Confirm your new InnoBridge e-mail address"),
    "email_changed": lambda: _("Your InnoBridge e-mail address was changed"),
    # challenges and proposals
    "challenge_amended": lambda: _("A challenge you joined was amended"),
    "question_answered": lambda: _("A clarification was published"),
    "proposal_receipt": lambda: _("Your proposal was received"),
    "team_invitation": lambda: _("You are invited to join a proposal team"),
    "stage_advanced": lambda: _("Your proposal advanced to the next stage"),
    "stage_not_advanced": lambda: _("A stage of a challenge was decided"),
    # solvers' alerts and reminders
    "challenge_alert": lambda: _("A new challenge matches your interests"),
    "challenge_digest": lambda: _("New challenges that match your interests"),
    "deadline_reminder": lambda: _("Reminder: a challenge deadline is approaching"),
    "review_due_reminder": lambda: _("Reminder: your InnoBridge reviews are due soon"),
    # reviews
    "reviewer_invited": lambda: _("You are invited to review for InnoBridge"),
    "reviews_assigned": lambda: _("New proposals to review on InnoBridge"),
    "review_reminder": lambda: _("Reminder: your InnoBridge reviews are due soon"),
    "clarification_question": lambda: _("A reviewer has a question about your proposal"),
    "clarification_answered": lambda: _("The authors answered a clarification question"),
    "provisional_scores_released": lambda: _("Your provisional scores are available"),
    "appeal_filed": lambda: _("A solver appealed one of your scores"),
    "appeal_answered": lambda: _("Your appeal was answered"),
    # awards and results
    "award_decided": lambda: _("The center has decided the awards of a challenge"),
    "award_next_step": lambda: _("Your InnoBridge award: the next step"),
    "award_paid": lambda: _("Your InnoBridge award was sent"),
    "result_consent_request": lambda: _("May we name you on an open result?"),
    # challenge translations
    "translator_invited": lambda: _("You are invited to translate a challenge on InnoBridge"),
}
