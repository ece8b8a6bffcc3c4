from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import IdMixin, TimestampMixin, UTCDateTime
from marketplace.extensions import db
from marketplace.permissions import SEEKER_STAFF_ROLES, STAFF_ROLES, Role


class Organization(IdMixin, TimestampMixin, db.Model):
    """An innovation center (or any seeker organization)."""

    __tablename__ = "organizations"

    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    premium_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("15"))


class User(IdMixin, UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised by a password reset or change: every session signed in under an older value ends.
    auth_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login keeps this in the session (and remember cookie)
        return f"{self.id}:{self.auth_version}"

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def has_role(self, role: Role | str, organization: Organization | int | None = None) -> bool:
        """True if the user holds `role` (in `organization`, when given). Everyone is a solver."""
        role = Role(role)
        if role is Role.SOLVER:
            return True
        org_id = getattr(organization, "id", organization)
        return any(
            grant.role == role and (org_id is None or grant.organization_id == org_id) for grant in self.roles
        )

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_staff(self) -> bool:
        return any(grant.role in STAFF_ROLES for grant in self.roles)

    def organization_ids(self, *roles: Role) -> set[int]:
        """Organizations where the user holds one of `roles` (default: the center's own staff roles)."""
        wanted = set(roles) or set(SEEKER_STAFF_ROLES)
        return {g.organization_id for g in self.roles if g.organization_id and g.role in wanted}

    def is_staff_of(self, organization: Organization | int) -> bool:
        """Manager or officer of the organization (reviewers are not: they work blind)."""
        org_id = getattr(organization, "id", organization)
        return org_id in self.organization_ids()


class RoleGrant(IdMixin, TimestampMixin, db.Model):
    """A role held by a user, in an organization (or platform-wide for admin)."""

    __tablename__ = "role_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(back_populates="roles")
    organization: Mapped[Organization | None] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "role", "organization_id"),)


class ApiToken(IdMixin, TimestampMixin, db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        """The one rule for whether a bearer token still signs its user in."""
        return self.revoked_at is None and self.expires_at > now and self.user.active


class SignInFailure(IdMixin, db.Model):
    """One failed sign-in (or wrong current password), counted per account and per address.

    Lives in the database so every worker and both sign-in paths (page and API) share one count
    when no Redis is configured. Only a digest of the key is stored.
    """

    __tablename__ = "sign_in_failures"

    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (db.Index("ix_sign_in_failures_key_hash_created_at", "key_hash", "created_at"),)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))
