from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import Organization
from marketplace.db import IdMixin, TimestampMixin
from marketplace.extensions import db
from marketplace.permissions import Role


class Program(IdMixin, TimestampMixin, db.Model):
    """An internal project of a center, decomposed into challenges. Never visible outside its staff."""

    __tablename__ = "programs"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(16))  # classified | unclassified
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="program", order_by="Requirement.position", cascade="all, delete-orphan")

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and user.is_staff_of(self.organization_id))

    def can_edit(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_role(Role.CENTER_MANAGER, self.organization_id))


class Requirement(IdMixin, db.Model):
    """A numbered requirement of a program (R1, R2, ...), covered by challenges."""

    __tablename__ = "program_requirements"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    program: Mapped[Program] = relationship(back_populates="requirements")

    __table_args__ = (UniqueConstraint("program_id", "code"),)
