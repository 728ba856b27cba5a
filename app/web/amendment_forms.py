"""Forms of the amendment pages (shape of input only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.amending.rules import RULE_LABELS
from app.limits import MAX_COMMENT_CHARS, MAX_PARAGRAPH_CHARS, MAX_RATIONALE_CHARS, MAX_TITLE_CHARS
from app.web.forms import PARAGRAPH_LENGTH, LocalDateTimeField, MultiCheckboxField

_PROPOSAL_HINT = f"At most {MAX_PARAGRAPH_CHARS:,} characters for a paragraph, {MAX_TITLE_CHARS} for a title."
_REASON_LENGTH = Length(max=MAX_RATIONALE_CHARS)
_REASON_HINT = f"At most {MAX_RATIONALE_CHARS:,} characters."


class OpenForm(FlaskForm):
    decision_rule = RadioField("Decision rule", choices=list(RULE_LABELS.items()), default="consensus",
                               validators=[InputRequired()])
    deadline = LocalDateTimeField("Amendment deadline (optional)", validators=[Optional()],
                                  description="After it, no new amendments can be proposed.")


class ProposeForm(FlaskForm):
    organisation = SelectField("Proposed on behalf of", coerce=int, validators=[InputRequired()])
    text = TextAreaField("Proposed text", validators=[Optional(), PARAGRAPH_LENGTH], description=_PROPOSAL_HINT)
    rationale = TextAreaField("Rationale", validators=[Optional(), _REASON_LENGTH],
                              description="Why the organisations should accept this change. " + _REASON_HINT)
    supersedes = MultiCheckboxField("This compromise replaces", coerce=int, validators=[Optional()],
                                    description="When it is accepted, the amendments ticked here are "
                                    "marked as superseded by it.")
    preview = SubmitField("Preview the change")
    submit = SubmitField("Propose amendment")


class EditAmendmentForm(FlaskForm):
    text = TextAreaField("Proposed text", validators=[Optional(), PARAGRAPH_LENGTH], description=_PROPOSAL_HINT)
    rationale = TextAreaField("Rationale", validators=[Optional(), _REASON_LENGTH], description=_REASON_HINT)
    preview = SubmitField("Preview the change")
    submit = SubmitField("Save amendment")


class PositionForm(FlaskForm):
    organisation = SelectField("For", coerce=int, validators=[InputRequired()])
    stance = RadioField("Position", choices=[("support", "Support"), ("oppose", "Oppose"),
                                             ("abstain", "Abstain")], validators=[InputRequired()])
    reason = TextAreaField("Reason (optional)", validators=[Optional(), _REASON_LENGTH])


class SponsorForm(FlaskForm):
    organisation = SelectField("Co-sponsor on behalf of", coerce=int, validators=[InputRequired()])


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(message="A comment cannot be empty."),
                                                Length(max=MAX_COMMENT_CHARS)],
                         description="Plain text; links become clickable.")
    parent_id = HiddenField()


class AcceptForm(FlaskForm):
    text_version = IntegerField(validators=[InputRequired()])


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting", validators=[DataRequired(
        message="Give a reason for rejecting, so the proposers know why."), _REASON_LENGTH])


class SuggestForm(FlaskForm):
    organisation = SelectField("Suggested on behalf of", coerce=int, validators=[InputRequired()])
    text = TextAreaField("Suggested text", validators=[Optional(), PARAGRAPH_LENGTH],
                         description="The amendment's text as you would have it. " + _PROPOSAL_HINT)
    rationale = TextAreaField("Why (optional)", validators=[Optional(), _REASON_LENGTH], description=_REASON_HINT)
    # The amendment's text version the form was made for: a suggestion on a text that changed meanwhile is refused.
    text_version = IntegerField(validators=[InputRequired()])


class DeclineSuggestionForm(FlaskForm):
    reason = TextAreaField("Reason for declining", validators=[DataRequired(
        message="Give a reason for declining, so the organisation that suggested it knows why."), _REASON_LENGTH])
