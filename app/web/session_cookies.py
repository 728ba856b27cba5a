"""Flask's signed-cookie sessions, with each worker remembering the cookies it has already verified.

Checking a session cookie's signature and decoding it cost more, per request, than the rest of a
cached statement page's own work. Each worker keeps the verified contents of the cookies it has
seen (bounded, least recently used first out), keyed by the whole cookie: a cookie that differs in
any byte is verified from scratch. The age limit is checked on every use, as Flask checks it, and
each request gets its own copy of the contents. Nothing else changes: a cookie is as valid as it
would be without this, and ending sessions still works through the user's session token.
"""

from __future__ import annotations

import copy
import functools
import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

VERIFIED_COOKIES = 4096


class RememberingSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._verified = functools.lru_cache(maxsize=VERIFIED_COOKIES)(self._verify)

    def _verify(self, app: Flask, value: str) -> tuple[dict, float]:
        data, signed_at = self.get_signing_serializer(app).loads(value, return_timestamp=True)
        return data, signed_at.timestamp()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        try:
            data, signed_at = self._verified(app, value)
        except BadSignature:
            return self.session_class()
        if not 0 <= time.time() - signed_at <= app.permanent_session_lifetime.total_seconds():
            return self.session_class()  # expired, as itsdangerous's max_age would say
        return self.session_class(copy.deepcopy(data))
