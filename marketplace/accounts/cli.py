"""`flask orgs create` and `flask users create`, exactly as the API contract names them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.accounts import services
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.permissions import Role

orgs_cli = AppGroup("orgs", help="Manage organizations.")
users_cli = AppGroup("users", help="Manage user accounts.")


def _fail(error: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in error.errors.items())
    raise click.ClickException(f"{error.detail}{' (' + details + ')' if details else ''}")


@orgs_cli.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code")
@click.option("--premium-pct", default="15", show_default=True, help="Award premium over benchmark rates")
def create_org(slug: str, name: str, country: str, premium_pct: str) -> None:
    try:
        org = services.create_organization(slug=slug, name=name, country=country, premium_pct=premium_pct)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created organization {org.slug} (id {org.id}).")


def pair_roles(roles: tuple[str, ...], orgs: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """Pair each --role with the next --org; `admin` takes none."""
    pending = list(orgs)
    pairs = []
    for role in roles:
        if role == Role.ADMIN:
            pairs.append((role, None))
        elif pending:
            pairs.append((role, pending.pop(0)))
        else:
            raise click.UsageError(f"--role {role} needs an --org SLUG")
    if pending:
        raise click.UsageError(f"--org {pending[0]} has no --role")
    return pairs


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code")
@click.option("--locale", default="en", show_default=True)
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role if r is not Role.SOLVER]))
@click.option("--org", "orgs", multiple=True, help="Organization slug for the preceding --role")
def create_user(email, password, name, country, locale, roles, orgs) -> None:
    pairs = pair_roles(roles, orgs)
    organizations = {}
    for slug in {slug for _role, slug in pairs if slug}:
        try:
            organizations[slug] = services.organization_by_slug(slug)
        except NotFound as error:  # name the slug: the service's message is for web users
            raise click.ClickException(f"No organization with the slug {slug!r}; create it first with "
                                       "`flask orgs create`.") from error
    try:
        user = services.register_user(email=email, password=password, display_name=name, country=country,
                                      locale=locale, confirmed=True)
        for role, slug in pairs:
            services.grant_role(user, role, organizations[slug] if slug else None)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    granted = ", ".join(f"{r}@{o}" if o else r for r, o in pairs) or "solver"
    click.echo(f"Created user {user.email} (id {user.id}) with roles: {granted}.")
