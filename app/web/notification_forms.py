"""Forms for notifications, preferences and statement invitations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.models import EVENT_KINDS
from app.web.forms import _NewPassword, email_field

MODE_CHOICES = [("immediate", "Immediately"), ("digest", "Daily digest"), ("off", "Never")]


class PreferencesForm(FlaskForm):
    """One radio group per event kind, added below."""


for _kind, _label in EVENT_KINDS.items():
    setattr(PreferencesForm, _kind, RadioField(_label, choices=MODE_CHOICES, default="immediate"))


class InviteOrganisationForm(FlaskForm):
    organisation = SelectField("An organisation on Concord", coerce=int, validators=[Optional()])
    contact_email = email_field("…or the e-mail of a contact at an organisation not yet on Concord", Optional(),
                               description="They get a link to create their organisation and account, and join.")


class JoinForm(FlaskForm, _NewPassword):
    organisation_name = StringField("Full name of your organisation", validators=[DataRequired(), Length(max=200)],
                                    description="As it should appear in the signatory line.")
    short_name = StringField("Short name", validators=[Optional(), Length(max=32)])
    country = StringField("Country", validators=[Optional(), Length(max=100)])
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
