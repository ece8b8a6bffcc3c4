"""One way to run a form action from an HTML route.

Every POST page action has the same shape: check who may act, validate the form, call one service,
commit, flash what happened and redirect (post/redirect/get). When the service refuses with a
DomainError, the change is rolled back (or the refusal recorded), the reason is shown next to the
form's fields and on top of the page, and the page is shown again with the error's status.
`run_action` is that shape, so routes only say what is particular to them.

    return run_action(
        lambda: services.cancel(challenge, current_user, reason=form.reason.data or ""),
        form=form,
        success=_("The challenge is cancelled."),
        redirect_to=url_for(".manage", challenge_id=challenge.id),
        refused=lambda refusal: render_manage(challenge, refusal.status, cancel_form=form),
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect
from wtforms import FieldList

from marketplace.errors import DomainError
from marketplace.extensions import db


@dataclass(frozen=True)
class Refusal:
    """Why an action did not happen: an invalid form (error is None) or a service's DomainError."""

    status: int
    error: DomainError | None = None

    @property
    def problems(self) -> list[str]:
        """The service's field messages as "field: message" lines, for pages without a field to put them at."""
        if self.error is None:
            return []
        return [f"{field}: {message}" for field, messages in self.error.errors.items() for message in messages]


def show_on_form(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form's fields, and its summary on top.

    `aliases` maps a service's field name to the form's (e.g. "eligibility" -> "excluded_countries").
    Messages without a field on this form become form-level errors, so the page still answers 422.
    """
    aliases = aliases or {}
    placed = False
    for name, messages in error.errors.items():
        target = aliases.get(name, name)
        if target in form and not isinstance(form[target], FieldList):
            form[target].errors = list(form[target].errors) + [str(m) for m in messages]
            placed = True
        elif target in form and hasattr(form, "section_errors"):
            form.section_errors.setdefault(target, []).extend(str(m) for m in messages)
            placed = True
        else:
            form.form_errors.extend(str(m) for m in messages)
    if not placed and not error.errors:
        form.form_errors.append(str(error.detail or error.title))
    flash(summary(error), "error")


def summary(error: DomainError) -> str:
    return str(error.detail or error.title)


def run_action(
    call: Callable[[], Any],
    *,
    success: str | Callable[[Any], str | None] | None,
    redirect_to: str | Callable[[Any], str],
    refused: Callable[[Refusal], Any] | str | None = None,
    form=None,
    validate: bool = True,
    invalid_status: int = 422,
    aliases: dict[str, str] | None = None,
    permission: Callable[[], Any] | None = None,
    record_refusal: Callable[[DomainError], None] | None = None,
    after_commit: Callable[[Any], Any] | None = None,
    show: Callable[[DomainError], None] | None = None,
    category: str = "success",
    code: int = 302,
):
    """Run one page action and answer with a redirect (done) or the page again (refused).

    call            the service call; its return value is passed to `success` and `redirect_to` when callable.
    success         the flash message (or a function of the result giving it; None flashes nothing).
    redirect_to     where to go when done (URL, or a function of the result giving it).
    refused         how to show the page again: a function of a Refusal (status, error, problems) returning
                    the response, or a URL to redirect back to. Default: back to `redirect_to` when it is a URL.
    form            validated first (unless validate=False) and used to place a refusal's field messages.
    permission      called before anything else; it raises NotFound/Forbidden, which the app's error pages show.
    record_refusal  instead of a plain rollback (e.g. audit_refusal, which rolls back then records and commits).
    after_commit    called with the result once committed (e.g. login_user, remembering a locale choice).
    show            how to show a refusal instead of show_on_form/flash (forms with their own placement rules).
    code            the redirect's status (303 where a page promises "see other" after a POST).
    """
    if permission is not None:
        permission()
    if form is not None and validate and not form.validate_on_submit():
        return _show_refusal(refused, redirect_to, Refusal(invalid_status), code)
    try:
        result = call()
    except DomainError as error:
        _undo(error, record_refusal)
        if show is not None:
            show(error)
        elif form is not None:
            show_on_form(form, error, aliases)
        else:
            flash(summary(error), "error")
        return _show_refusal(refused, redirect_to, Refusal(error.status, error), code)
    db.session.commit()
    if after_commit is not None:
        after_commit(result)
    message = success(result) if callable(success) else success
    if message:
        flash(message, category)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to, code=code)


def _undo(error: DomainError, record_refusal: Callable[[DomainError], None] | None) -> None:
    if record_refusal is not None:
        record_refusal(error)
    else:
        db.session.rollback()


def _show_refusal(refused, redirect_to, refusal: Refusal, code: int = 302):
    if callable(refused):
        return refused(refusal)
    target = refused if refused is not None else redirect_to
    if callable(target):
        raise TypeError("run_action needs `refused` when `redirect_to` is a function of the result")
    return redirect(target, code=code)
