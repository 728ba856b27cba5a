"""Rendering outbox messages as e-mails (text and HTML), for `flask notifications send-due`.

Each e-mail is written in its recipient's language: the one on their account, else, for someone
without an account (an invitation), the one it was sent in (the inviting person's), else English.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext

from app import i18n
from app.models import OutboxMessage
from app.notifications import texts
from app.notifications.delivery import MailSettings, Rendered


def settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        sender=config["MAIL_FROM"], base_url=config["BASE_URL"], server=config["MAIL_SERVER"],
        port=config["MAIL_PORT"], use_tls=config["MAIL_USE_TLS"], username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"], outbox_dir=Path(current_app.instance_path) / "outbox",
    )


def recipient_language(row: OutboxMessage) -> str:
    """The language an e-mail is written in: its recipient's account's, else the one it was sent in, else English."""
    user = row.user if row.user_id is not None else None
    if user is not None and user.language in i18n.LANGUAGES:
        return user.language
    return texts.language_of(row.texts) or i18n.DEFAULT


def render(rows: list[OutboxMessage], digest: bool) -> Rendered:
    with force_locale(recipient_language(rows[0])):
        return _render(rows, digest)


def _render(rows: list[OutboxMessage], digest: bool) -> Rendered:
    base = current_app.config["BASE_URL"]
    context = {"base_url": base, "preferences_url": f"{base}/account/notifications"}
    if not digest:
        row = rows[0]
        context.update(message=row, link=base + row.path)
        return Rendered(row.shown_subject, render_template("emails/notification.txt", **context),
                        render_template("emails/notification.html", **context))
    # Grouped by statement (two statements may share a title), ordered by title.
    ordered = sorted(rows, key=lambda r: (r.statement.title if r.statement else "", r.statement_id or 0, r.id))
    groups = [(items[0].statement.title if items[0].statement else "Concord", items) for items in
              (list(g) for _key, g in groupby(ordered, key=lambda r: r.statement_id))]
    context.update(groups=groups, count=len(rows))
    subject = gettext("Concord: %(updates)s on %(statements)s",
                      updates=ngettext("%(num)d update", "%(num)d updates", len(rows)),
                      statements=ngettext("%(num)d statement", "%(num)d statements", len(groups)))
    return Rendered(subject, render_template("emails/digest.txt", **context),
                    render_template("emails/digest.html", **context))
