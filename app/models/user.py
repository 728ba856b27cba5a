from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.organisation import Membership, Organisation


def _new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the login cookie's identity: changing it ends every session.
    session_token: Mapped[str] = mapped_column(String(32), default=_new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The IANA zone times are shown in; None: the browser's.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The interface language (a key of app.i18n.LANGUAGES); None: the browser's. Mail is sent in it.
    language: Mapped[str | None] = mapped_column(String(8))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def renew_session_token(self) -> None:
        self.session_token = _new_session_token()

    def role_pairs(self) -> frozenset[tuple[int, str]]:
        """(organisation id, role) for each membership: from the memberships if they are loaded, else
        as the request's user query counted them (accounts.load_for_request), else loaded now."""
        counted = self.__dict__.get("counted_roles")
        if counted is not None and "memberships" not in self.__dict__:
            return counted
        return frozenset((m.organisation_id, m.role) for m in self.memberships)

    def roles_in(self, organisation: Organisation) -> set[str]:
        return {role for org_id, role in self.role_pairs() if org_id == organisation.id}

    def has_role(self, organisation: Organisation, role: str) -> bool:
        return role in self.roles_in(organisation)

    def organisations(self, role: str | None = None) -> list[Organisation]:
        seen: dict[int, Organisation] = {}
        for m in self.memberships:
            if role is None or m.role == role:
                seen.setdefault(m.organisation_id, m.organisation)
        return sorted(seen.values(), key=lambda o: o.name.lower())

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """An invitation to create an account, optionally into an organisation with roles."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[str] = mapped_column(Text, default="")  # space separated
    make_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def role_list(self) -> list[str]:
        return self.roles.split()


class SiteSetting(db.Model):
    """Key/value facts about the installation; the primary key makes setup happen once."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
