"""Forms of the public pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class VerifyForm(FlaskForm):
    file = FileField(_l("A file: the plain text (.txt), the PDF (.pdf) or the signed manifest (.json)"))
    text = TextAreaField(_l("Or paste the text, for example copied from a website"),
                         validators=[Optional(), Length(max=3_000_000)])
