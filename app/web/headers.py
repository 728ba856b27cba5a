"""The security headers every response carries: pages, files, errors and the API alike."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(secure: bool) -> list[tuple[str, str]]:
    """HSTS goes out only over https. Behind a reverse proxy that terminates TLS, a request is secure
    only if the proxy sets ``X-Forwarded-Proto`` and the app trusts it through werkzeug's ProxyFix
    (see docs/security.md)."""
    return [HSTS, *_ALWAYS] if secure else list(_ALWAYS)
