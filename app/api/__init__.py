"""The JSON API under /api/v1. Bearer tokens only; errors are {"error": {"code", "message"}}."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

bp = Blueprint("api", __name__)


def json_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="concord"'
    return response


from app.api import amendments, openapi, publishing, routes, signing, translations  # noqa: E402,F401  (routes attach themselves to bp)

__all__ = ["bp", "g", "json_error", "request"]
