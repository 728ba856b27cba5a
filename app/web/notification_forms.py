"""Forms for notifications, preferences and statement invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.models import EVENT_KINDS
from app.web.forms import _NewPassword, email_field

MODE_CHOICES = [("immediate", _l("Immediately")), ("digest", _l("Daily digest")), ("off", _l("Never"))]


class PreferencesForm(FlaskForm):
    """One radio group per event kind, added below."""


for _kind, _label in EVENT_KINDS.items():
    setattr(PreferencesForm, _kind, RadioField(_label, choices=MODE_CHOICES, default="immediate"))


class InviteOrganisationForm(FlaskForm):
    organisation = SelectField(_l("An organisation on Concord"), coerce=int, validators=[Optional()])
    contact_email = email_field(_l("…or the e-mail of a contact at an organisation not yet on Concord"), Optional(),
                               description=_l("They get a link to create their organisation and account, and join."))


class JoinForm(FlaskForm, _NewPassword):
    organisation_name = StringField(_l("Full name of your organisation"), validators=[DataRequired(), Length(max=200)],
                                    description=_l("As it should appear in the signatory line."))
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=32)])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
