"""Forms of the signing and publication pages (shape of input only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.web.forms import LocalDateTimeField, MultiCheckboxField


class FreezeForm(FlaskForm):
    signing_deadline = LocalDateTimeField(_l("Signing deadline (optional)"), validators=[Optional()])
    planned_publication_date = DateField(_l("Planned publication date (optional)"), validators=[Optional()])
    auto_publish = BooleanField(_l("Publish automatically when the last organisation signs"))
    without_amendment_round = BooleanField(
        _l("The organisations agreed on this text as it stands: no amendment round took place"),
        description=_l("Recorded in the audit trail. Open the draft for amendments instead if they may want "
                       "changes."))
    authentic_languages = MultiCheckboxField(
        _l("Authentic translations"), choices=[], validate_choice=False,
        description=_l("Signed together with the source text, which is always authentic. Each must be complete "
                       "and current."))


class SignForm(FlaskForm):
    organisation = SelectField(_l("Sign on behalf of"), coerce=int, validators=[InputRequired()])
    signer_name = StringField(_l("Your name, as it should appear"), validators=[DataRequired(), Length(max=200)])
    signer_title = StringField(_l("Your title or function"), validators=[DataRequired(), Length(max=200)],
                               description=_l("For example “General Secretary”."))
    authorised = BooleanField(_l("I am authorised to sign on behalf of this organisation"),
                              validators=[DataRequired(message=_l("Confirm that you are authorised to sign."))])
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=1000)],
                             description=_l("Re-enter your password to confirm that it is you signing."))
    version_sha256 = HiddenField(validators=[DataRequired()])
    # The authentic translations shown, as "de=<sha256> es=<sha256>" (empty for a single language).
    translation_sha256 = HiddenField(validators=[Length(max=5000)])


class WithdrawOrganisationForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason; the other "
                                                                             "organisations will see it.")),
                                                     Length(max=2000)])


class PublishForm(FlaskForm):
    publication_date = DateField(_l("Publication date"), validators=[DataRequired()],
                                 description=_l("Today, the date of the last signature, or a date after it."))


class EndorsementForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[InputRequired()])
    endorsed_on = DateField(_l("Endorsed on"), validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=2000)])
