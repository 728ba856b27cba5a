"""Forms for archived statements: recording one, and answering a recorded signature."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

MAX_SIGNATORY_ROWS = 30


class SignatoryRow(Form):
    """One organisation of the signatory line and its signer as printed (no CSRF: part of a form)."""

    organisation = SelectField("Organisation", coerce=int, validate_choice=False)
    signer_name = StringField("Signed by (name as printed)", validators=[Optional(), Length(max=200)])
    signer_title = StringField("Title as printed", validators=[Optional(), Length(max=200)])


class ArchiveForm(FlaskForm):
    text = TextAreaField("The statement as published", validators=[Optional(), Length(max=2_100_000)],
                         description="Its title, signatory line and numbered paragraphs, as published.")
    file = FileField("Or upload it as a plain-text file (UTF-8)")
    coordinator_organisation = SelectField("Recorded on behalf of", coerce=int,
                                           description="The organisation you coordinate it for; it must be one "
                                                       "of the signatories below.")
    publication_date = DateField("Date of the original publication", validators=[Optional()],
                                 description="Left empty: the date in the pasted signatory line.")
    signatories = FieldList(FormField(SignatoryRow), min_entries=2, max_entries=MAX_SIGNATORY_ROWS)


class AnswerForm(FlaskForm):
    answer = SelectField("Your answer", choices=[("confirm", "Confirm: we signed it, as recorded"),
                                                 ("dispute", "Dispute: this record is wrong")],
                         validators=[DataRequired()])
    reason = TextAreaField("Reason (when you dispute it)", validators=[Optional(), Length(max=2000)])
