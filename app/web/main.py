from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.drafting.operations import statements_for
from app.notifications.waiting import waiting_for

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template(
        "main/home.html",
        statements=statements_for(current_user),
        organisations=current_user.organisations(),
        waiting=waiting_for(current_user),
    )
