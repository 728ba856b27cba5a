"""Forms check the shape of input; the rules check everything that depends on other rows."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import dates, i18n
from app.i18n import N_
from app.limits import (
    MAX_IMPORT_BYTES,
    MAX_PARAGRAPH_CHARS,
    MAX_PARAGRAPHS,
    MAX_STATEMENT_CHARS,
    MAX_TITLE_CHARS,
)
from app.models.organisation import ROLE_LABELS, ROLES

# The forms only guard the shape of what is sent; the rules (app/limits.py) enforce the maxima with
# messages that give the count. A browser sends each line break as two characters, which the rules
# count as one, hence the forms' wider margin.
# Hints and messages made when shown (LazyString), in the viewer's language, counts as their locale writes them.


def count(number: int) -> str:
    """A count as the viewer's locale writes it ("10,000", "10.000"); English outside a request."""
    locale = get_locale()
    return format_decimal(number, locale=str(locale) if locale else i18n.DEFAULT)


PARAGRAPH_HINT = LazyString(lambda: gettext("At most %(max)s characters.", max=count(MAX_PARAGRAPH_CHARS)))
TITLE_HINT = LazyString(lambda: gettext("At most %(max)s characters.", max=count(MAX_TITLE_CHARS)))
STATEMENT_HINT = LazyString(lambda: gettext(
    "At most %(paragraphs)s paragraphs of up to %(max)s characters, %(total)s characters in all.",
    paragraphs=count(MAX_PARAGRAPHS), max=count(MAX_PARAGRAPH_CHARS), total=count(MAX_STATEMENT_CHARS)))
PARAGRAPH_LENGTH = Length(max=2 * MAX_PARAGRAPH_CHARS, message=LazyString(lambda: gettext(
    "A paragraph can have at most %(max)s characters.", max=count(MAX_PARAGRAPH_CHARS))))


def no_control_characters(form, field) -> None:
    """An e-mail address with a control character (a tab, a line break, an invisible mark) is refused,
    with the same message as the rules give (accounts.normalise_email)."""
    from app.accounts.operations import normalise_email
    from app.errors import InvalidInput

    try:
        normalise_email(field.data or "x@x")
    except InvalidInput as exc:
        if "control" in i18n.in_language(exc.raw_message, i18n.DEFAULT):
            raise ValidationError(exc.message) from None


def email_field(label, *validators, **kwargs) -> EmailField:
    """An e-mail address: at most 254 characters, no control characters."""
    return EmailField(label, validators=[*validators, Length(max=254), no_control_characters], **kwargs)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time as the viewer's clock shows it, in their zone (their account's, else their
    browser's, else UTC), read as an aware UTC datetime; shown back in that zone. The zone is named
    under the field. A wall-clock time with no UTC equivalent (year 9999 west of UTC) is an error."""

    def __init__(self, label=None, validators=None, description="", **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], **kwargs)
        self.given_description = description

    @property
    def zone(self):
        from app.web.i18n import viewer_zone

        return viewer_zone()

    @property
    def description(self) -> str:
        from app.web.i18n import zone_source

        zone = dates.zone_label(self.zone)
        source = zone_source()
        if source == "account":
            note = gettext("Time zone: %(zone)s (as set on your account page).", zone=zone)
        elif source == "browser":
            note = gettext("Time zone: %(zone)s (your browser's).", zone=zone)
        else:
            note = gettext("Time zone: %(zone)s (set yours on your account page).", zone=zone)
        return f"{self.given_description or ''} {note}".strip()

    @description.setter
    def description(self, value) -> None:
        self.given_description = value

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            try:
                self.data = dates.local_to_utc(self.data, self.zone)
            except ValueError:
                self.data = None
                raise

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return dates.utc_to_local(self.data, self.zone).strftime("%Y-%m-%dT%H:%M") if self.data else ""


class EmptyForm(FlaskForm):
    """For buttons that POST: carries the CSRF token and nothing else."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]


class _NewPassword:
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=10, max=1000)],
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class SetupForm(FlaskForm, _NewPassword):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = email_field(_l("E-mail"), DataRequired())


class LoginForm(FlaskForm):
    email = email_field(_l("E-mail"), DataRequired())
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class AcceptInvitationForm(FlaskForm, _NewPassword):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("As your colleagues know you."))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=1000)],
                             description=_l("At least 10 characters. Every other session is logged out."))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class TimezoneForm(FlaskForm):
    timezone = SelectField(_l("Show times in"), validators=[Optional()],
                           description=_l("Deadlines and other times are shown, and read from forms, in this zone."))

    def __init__(self, *args, browser_zone: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        browser = gettext("My browser's time zone (%(zone)s)", zone=browser_zone) if browser_zone \
            else gettext("My browser's time zone")
        self.timezone.choices = [("", browser)] + [(z, z) for z in dates.zone_names()]


class LanguageForm(FlaskForm):
    """The language of the pages and of the e-mails to this person (empty: their browser's)."""

    language = SelectField(_l("Show Concord in"), validators=[Optional()],
                           description=_l("The pages and the e-mails Concord sends you are in this language."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each language in its own name, as in the chooser at the foot of every page.
        self.language.choices = [("", gettext("My browser's language"))] + list(i18n.LANGUAGES.items())


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. “newsroom script”."))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("As it should appear in the signatory line."))
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=32)],
                             description=_l("For example “RSL”."))
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])
    slug = StringField(_l("Address"), validators=[Optional(), Length(max=64)],
                       description=_l("Used in links: /o/<address>. Left empty, it is made from the name."))
    name_in_statements = StringField(
        _l("Name in statements"), validators=[Optional(), Length(max=300)],
        description=_l("How the signatory line of a joint statement names it, for example “the Revolutionary "
                       "Socialist League (Kenya)”. Left empty, it is the full name."))


class EditOrganisationForm(FlaskForm):
    name = OrganisationForm.name
    short_name = OrganisationForm.short_name
    country = OrganisationForm.country
    name_in_statements = OrganisationForm.name_in_statements


class AddMemberForm(FlaskForm):
    email = email_field(_l("E-mail of an existing account"), DataRequired())
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES,
                               validators=[DataRequired(message=_l("Choose at least one role."))])


class MemberRolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, validators=[Optional()])


class InviteForm(FlaskForm):
    email = email_field(_l("E-mail"), DataRequired())
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, validators=[Optional()])
    make_admin = BooleanField(_l("Platform admin (manages every account and organisation)"))


def _shown(text: str, **numbers: int) -> LazyString:
    """A message with counts, translated when shown, its numbers written as the viewer's language writes them."""
    return LazyString(lambda: gettext(text, **{k: count(v) for k, v in numbers.items()}))


def _sentences(*parts) -> LazyString:
    """Sentences joined by a space, each translated when the form is shown."""
    return LazyString(lambda: " ".join(str(p) for p in parts))


_EMPTY_PARAGRAPH = _l("A paragraph cannot be empty.")


class _Participants:
    coordinator_organisation = SelectField(
        _l("Coordinating organisation"), coerce=int, validators=[InputRequired()],
        description=_l("You coordinate on behalf of this organisation; it is listed first."),
    )
    participants = MultiCheckboxField(
        _l("Participating organisations"), coerce=int, validators=[Optional()],
        description=_l("The organisations that will amend and sign the statement."),
    )


_PASTE_LENGTH = Length(max=MAX_IMPORT_BYTES, message=_shown(N_("At most %(max)s characters can be sent at once."),
                                                            max=MAX_IMPORT_BYTES))


class StatementForm(FlaskForm, _Participants):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE_CHARS)],
                        description=TITLE_HINT)
    text = TextAreaField(
        _l("First paragraphs (optional)"), validators=[Optional(), _PASTE_LENGTH],
        description=_sentences(_l("Separate paragraphs with a blank line. You can add and edit paragraphs later."),
                               STATEMENT_HINT),
    )


class ImportForm(FlaskForm, _Participants):
    text = TextAreaField(
        _l("Paste the statement"), validators=[Optional(), _PASTE_LENGTH],
        description=_sentences(_l("Title first; paragraphs numbered “1.”, “2.”, … or separated by blank lines."),
                               STATEMENT_HINT),
    )
    upload = FileField(_l("…or upload a .txt file (UTF-8, at most %(mb)s MB)", mb=MAX_IMPORT_BYTES // (1024 * 1024)))
    confirm = HiddenField()


class ParagraphForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(message=_EMPTY_PARAGRAPH), PARAGRAPH_LENGTH],
                         description=PARAGRAPH_HINT)
    base_revision_id = IntegerField(validators=[Optional()])


class ParagraphRefField(HiddenField):
    """A paragraph id in ASCII digits, "top" or empty; anything else reads as "invalid" (a 404).

    The view checks the value with str.isdigit(), which "²" passes and int() then refuses.
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data and self.data != "top" and not (self.data.isascii() and self.data.isdigit()):
            self.data = "invalid"


class NewParagraphForm(FlaskForm):
    text = TextAreaField(_l("Text of the new paragraph"),
                         validators=[DataRequired(message=_EMPTY_PARAGRAPH), PARAGRAPH_LENGTH],
                         description=PARAGRAPH_HINT)
    after = ParagraphRefField()


class DeleteParagraphForm(FlaskForm):
    base_revision_id = IntegerField(validators=[Optional()])


class MoveParagraphForm(FlaskForm):
    direction = HiddenField(validators=[DataRequired()])


class TitleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE_CHARS)],
                        description=TITLE_HINT)
