from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n import _
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.user import User

ROLES = ("delegate", "signatory", "admin")
ROLE_LABELS = {"delegate": _("Delegate"), "signatory": _("Signatory"), "admin": _("Organisation admin")}
# The roles as nouns inside a sentence ("… as delegate and signatory of …").
ROLE_NOUNS = {"delegate": _("delegate"), "signatory": _("signatory"), "admin": _("organisation admin")}


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(32), default="")
    # How statements name it in their signatory line ("the Revolutionary Socialist League (Kenya)");
    # empty: its full name. Published files keep the name they were published with.
    name_in_statements: Mapped[str] = mapped_column(String(300), default="", server_default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def members_by_user(self) -> list[tuple[User, list[str]]]:
        grouped: dict[int, tuple[User, list[str]]] = {}
        for m in self.memberships:
            grouped.setdefault(m.user_id, (m.user, []))[1].append(m.role)
        return sorted(
            ((u, sorted(r, key=ROLES.index)) for u, r in grouped.values()),
            key=lambda pair: pair[0].name.lower(),
        )

    def can_manage(self, user: User | None) -> bool:
        """Platform admins manage every organisation; organisation admins their own."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return user.is_admin or user.has_role(self, "admin")

    @property
    def statement_name(self) -> str:
        """The name the signatory line of a statement published now would use."""
        return self.name_in_statements or self.name

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Membership(db.Model):
    """One role of one person in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships", lazy="joined")
    user: Mapped[User] = relationship(back_populates="memberships")
