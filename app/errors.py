"""Domain errors. The rules raise these; app/web and app/api turn them into responses."""

from __future__ import annotations

from app.i18n import Message


class ConcordError(Exception):
    """Base of every error a rule can raise; ``message`` is shown to the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str | Message, *, field: str | None = None):
        super().__init__(message)
        self.raw_message = message
        self.field = field

    @property
    def message(self) -> str:
        """The message in the language of whoever is shown it now (app.i18n)."""
        return str(self.raw_message)


class InvalidInput(ConcordError):
    code = "invalid_input"
    status = 422


class NotAllowed(ConcordError):
    code = "forbidden"
    status = 403


class NotFound(ConcordError):
    code = "not_found"
    status = 404


class Conflict(ConcordError):
    code = "conflict"
    status = 409


class StaleText(Conflict):
    """The text changed since the form was loaded."""

    code = "stale"


class WrongPhase(Conflict):
    code = "wrong_phase"


class BatchRefused(Conflict):
    """Several things asked for at once, none done: ``problems`` says, per id, why not."""

    code = "batch_refused"

    def __init__(self, message: str | Message, problems: dict[int, str | Message]):
        super().__init__(message)
        self.problems = problems
