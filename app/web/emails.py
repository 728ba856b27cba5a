"""Rendering outbox messages as e-mails (text and HTML), for `flask notifications send-due`."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from flask import current_app, render_template

from app.models import OutboxMessage
from app.notifications.delivery import MailSettings, Rendered


def settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        sender=config["MAIL_FROM"], base_url=config["BASE_URL"], server=config["MAIL_SERVER"],
        port=config["MAIL_PORT"], use_tls=config["MAIL_USE_TLS"], username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"], outbox_dir=Path(current_app.instance_path) / "outbox",
    )


def render(rows: list[OutboxMessage], digest: bool) -> Rendered:
    base = current_app.config["BASE_URL"]
    context = {"base_url": base, "preferences_url": f"{base}/account/notifications"}
    if not digest:
        row = rows[0]
        context.update(message=row, link=base + row.path)
        return Rendered(row.subject, render_template("emails/notification.txt", **context),
                        render_template("emails/notification.html", **context))
    # Grouped by statement (two statements may share a title), ordered by title.
    ordered = sorted(rows, key=lambda r: (r.statement.title if r.statement else "", r.statement_id or 0, r.id))
    groups = [(items[0].statement.title if items[0].statement else "Concord", items) for items in
              (list(g) for _, g in groupby(ordered, key=lambda r: r.statement_id))]
    context.update(groups=groups, count=len(rows))
    subject = f"Concord: {len(rows)} update{'' if len(rows) == 1 else 's'} on {len(groups)} " \
              f"statement{'' if len(groups) == 1 else 's'}"
    return Rendered(subject, render_template("emails/digest.txt", **context),
                    render_template("emails/digest.html", **context))
