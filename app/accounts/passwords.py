"""Password hashing with argon2id (memory-hard). create_app() sets the cost."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import InvalidInput
from app.i18n import _

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def configure(*, time_cost: int, memory_cost: int) -> None:
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def check_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("A password needs at least %(min)s characters.", min=MIN_PASSWORD_LENGTH), field="password"
        )
    if len(password) > 1000:
        raise InvalidInput(_("A password can have at most 1,000 characters."), field="password")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
