"""Forms of the amendment pages (shape of input only)."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
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

# The maxima as the viewer's language writes numbers, when the hint is shown.
_PARAGRAPH_MAX = LazyString(format_decimal, MAX_PARAGRAPH_CHARS)
_TITLE_MAX = LazyString(format_decimal, MAX_TITLE_CHARS)
_REASON_MAX = LazyString(format_decimal, MAX_RATIONALE_CHARS)
_PROPOSAL_HINT = _l("At most %(paragraph)s characters for a paragraph, %(title)s for a title.",
                    paragraph=_PARAGRAPH_MAX, title=_TITLE_MAX)
_REASON_LENGTH = Length(max=MAX_RATIONALE_CHARS)
_REASON_HINT = _l("At most %(max)s characters.", max=_REASON_MAX)


class OpenForm(FlaskForm):
    decision_rule = RadioField(_l("Decision rule"), choices=list(RULE_LABELS.items()), default="consensus",
                               validators=[InputRequired()])
    deadline = LocalDateTimeField(_l("Amendment deadline (optional)"), validators=[Optional()],
                                  description=_l("After it, no new amendments can be proposed."))


class ProposeForm(FlaskForm):
    organisation = SelectField(_l("Proposed on behalf of"), coerce=int, validators=[InputRequired()])
    text = TextAreaField(_l("Proposed text"), validators=[Optional(), PARAGRAPH_LENGTH], description=_PROPOSAL_HINT)
    rationale = TextAreaField(_l("Rationale"), validators=[Optional(), _REASON_LENGTH],
                              description=_l("Why the organisations should accept this change. At most %(max)s "
                                             "characters.", max=_REASON_MAX))
    supersedes = MultiCheckboxField(_l("This compromise replaces"), coerce=int, validators=[Optional()],
                                    description=_l("When it is accepted, the amendments ticked here are "
                                                   "marked as superseded by it."))
    preview = SubmitField(_l("Preview the change"))
    submit = SubmitField(_l("Propose amendment"))


class EditAmendmentForm(FlaskForm):
    text = TextAreaField(_l("Proposed text"), validators=[Optional(), PARAGRAPH_LENGTH], description=_PROPOSAL_HINT)
    rationale = TextAreaField(_l("Rationale"), validators=[Optional(), _REASON_LENGTH], description=_REASON_HINT)
    preview = SubmitField(_l("Preview the change"))
    submit = SubmitField(_l("Save amendment"))


class PositionForm(FlaskForm):
    organisation = SelectField(_l("For"), coerce=int, validators=[InputRequired()])
    stance = RadioField(_l("Position"), choices=[("support", _l("Support")), ("oppose", _l("Oppose")),
                                                 ("abstain", _l("Abstain"))], validators=[InputRequired()])
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), _REASON_LENGTH])


class SponsorForm(FlaskForm):
    organisation = SelectField(_l("Co-sponsor on behalf of"), coerce=int, validators=[InputRequired()])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(message=_l("A comment cannot be empty.")),
                                                    Length(max=MAX_COMMENT_CHARS)],
                         description=_l("Plain text; links become clickable."))
    parent_id = HiddenField()


class AcceptForm(FlaskForm):
    text_version = IntegerField(validators=[InputRequired()])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for rejecting"), validators=[DataRequired(
        message=_l("Give a reason for rejecting, so the proposers know why.")), _REASON_LENGTH])


class SuggestForm(FlaskForm):
    organisation = SelectField(_l("Suggested on behalf of"), coerce=int, validators=[InputRequired()])
    text = TextAreaField(_l("Suggested text"), validators=[Optional(), PARAGRAPH_LENGTH],
                         description=_l("The amendment's text as you would have it. At most %(paragraph)s characters "
                                        "for a paragraph, %(title)s for a title.",
                                        paragraph=_PARAGRAPH_MAX, title=_TITLE_MAX))
    rationale = TextAreaField(_l("Why (optional)"), validators=[Optional(), _REASON_LENGTH], description=_REASON_HINT)
    # The amendment's text version the form was made for: a suggestion on a text that changed meanwhile is refused.
    text_version = IntegerField(validators=[InputRequired()])


class DeclineSuggestionForm(FlaskForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[DataRequired(
        message=_l("Give a reason for declining, so the organisation that suggested it knows why.")), _REASON_LENGTH])
