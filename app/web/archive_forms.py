"""Forms for archived statements: recording one, and answering a recorded signature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

MAX_SIGNATORY_ROWS = 30


class SignatoryRow(Form):
    """One organisation of the signatory line and its signer as printed (no CSRF: part of a form)."""

    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    signer_name = StringField(_l("Signed by (name as printed)"), validators=[Optional(), Length(max=200)])
    signer_title = StringField(_l("Title as printed"), validators=[Optional(), Length(max=200)])


class ArchiveForm(FlaskForm):
    text = TextAreaField(_l("The statement as published"), validators=[Optional(), Length(max=2_100_000)],
                         description=_l("Its title, signatory line and numbered paragraphs, as published."))
    file = FileField(_l("Or upload it as a plain-text file (UTF-8)"))
    coordinator_organisation = SelectField(_l("Recorded on behalf of"), coerce=int,
                                           description=_l("The organisation you coordinate it for; it must be "
                                                          "one of the signatories below."))
    publication_date = DateField(_l("Date of the original publication"), validators=[Optional()],
                                 description=_l("Left empty: the date in the pasted signatory line."))
    signatories = FieldList(FormField(SignatoryRow), min_entries=2, max_entries=MAX_SIGNATORY_ROWS)


class AnswerForm(FlaskForm):
    answer = SelectField(_l("Your answer"), choices=[("confirm", _l("Confirm: we signed it, as recorded")),
                                                 ("dispute", _l("Dispute: this record is wrong"))],
                         validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (when you dispute it)"), validators=[Optional(), Length(max=2000)])
