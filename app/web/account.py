from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from app import i18n
from app.accounts import operations as accounts
from app.extensions import db
from app.models import ApiToken
from app.web import now, run_rule
from app.web.forms import ChangePasswordForm, EmptyForm, LanguageForm, TimezoneForm, TokenForm
from app.web.i18n import browser_zone

bp = Blueprint("account", __name__, url_prefix="/account")


def _timezone_form(formdata=None):
    return TimezoneForm(formdata=formdata, prefix="tz", browser_zone=browser_zone(),
                        data={"timezone": current_user.timezone or ""})


def _language_form(formdata=None):
    return LanguageForm(formdata=formdata, prefix="lang", data={"language": current_user.language or ""})


def _page(password_form=None, token_form=None, new_token=None, timezone_form=None, language_form=None, status=200):
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template(
        "account/index.html",
        password_form=password_form or ChangePasswordForm(prefix="pw"),
        token_form=token_form or TokenForm(prefix="tok"),
        timezone_form=timezone_form or _timezone_form(),
        language_form=language_form or _language_form(),
        revoke_form=EmptyForm(),
        tokens=tokens,
        new_token=new_token,
    ), status


@bp.route("/")
@login_required
def index():
    return _page()


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        ok, _result = run_rule(form, accounts.change_password, current_user._get_current_object(),
                               form.current_password.data, form.password.data)
        if ok:
            # The session token changed: log this session in again under the new one.
            login_user(current_user._get_current_object())
            flash(gettext("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("account.index"))
    return _page(password_form=form, status=422)


@bp.route("/timezone", methods=["POST"])
@login_required
def set_timezone():
    form = TimezoneForm(prefix="tz", browser_zone=browser_zone())
    if form.validate_on_submit():
        ok, _result = run_rule(form, accounts.set_timezone, current_user._get_current_object(), form.timezone.data)
        if ok:
            flash(gettext("Times are now shown in %(zone)s.", zone=form.timezone.data) if form.timezone.data
                  else gettext("Times are now shown in your browser’s time zone."), "success")
            return redirect(url_for("account.index"))
    return _page(timezone_form=form, status=422)


@bp.route("/language", methods=["POST"])
@login_required
def set_language():
    """The language of the pages and of this person's e-mail; empty: their browser's."""
    form = LanguageForm(prefix="lang")
    if form.validate_on_submit():
        ok, _result = run_rule(form, accounts.set_language, current_user._get_current_object(), form.language.data)
        if ok:
            tag = form.language.data
            if tag:  # said in the language just chosen (the next page is in it too)
                with force_locale(tag):
                    flash(gettext("Concord is now shown in %(language)s.", language=i18n.LANGUAGES[tag]), "success")
            else:
                flash(gettext("Concord now follows your browser’s language."), "success")
            return redirect(url_for("account.index"))
    return _page(language_form=form, status=422)


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token():
    form = TokenForm(prefix="tok")
    if form.validate_on_submit():
        ok, result = run_rule(form, accounts.create_api_token, current_user._get_current_object(),
                              form.name.data)
        if ok:
            return _page(new_token=result[1])
    return _page(token_form=form, status=422)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    form = EmptyForm()
    if form.validate_on_submit():
        ok, _result = run_rule(None, accounts.revoke_api_token, current_user._get_current_object(),
                               token_id, now=now())
        flash(gettext("The token is revoked.") if ok else gettext("No such token."), "success" if ok else "error")
    return redirect(url_for("account.index"))
