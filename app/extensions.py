"""Extension instances, bound to an app in create_app(). Imports nothing of app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def commit_keeping_state() -> None:
    """Commit the request's one transaction without expiring what it loaded and wrote.

    A request commits once, at its end: what it then shows (a message naming the organisation, the
    new row's id, the JSON of what it made) is what it has just written, and reading all of it
    again would cost a query per row."""
    session = db.session()
    session.expire_on_commit = False
    try:
        db.session.commit()
    finally:
        session.expire_on_commit = True


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Dates, times and (from the languages issue on) translations; selectors in app/web/i18n.py.
babel = Babel()
