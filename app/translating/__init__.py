"""Statement languages and translations (issue 14): languages.py (tags, scripts, the signatory line's
words per language; pure, Babel), operations.py (the rules), names.py (names in statements per
language)."""
