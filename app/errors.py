"""Domain errors: a request that breaks a rule of the domain, with the HTTP status it maps to.

Domain modules raise these; the web layer's one exception handler turns them into responses,
and the CLI into a message and an exit status.
"""

from __future__ import annotations

from app.i18n import Text


class DomainError(Exception):
    """A request that breaks a rule of the domain; ``status`` is the HTTP answer, and
    ``field`` the input it is about, where there is one (a form shows the message there)."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None, **values: object) -> None:
        self.text: str = Text(message, None, **values) if values else message
        """The message as a page translates it (``str(error)`` is the English)."""
        super().__init__(self.text)
        self.field = field


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unprocessable(DomainError):
    """Well-formed but refused: a body that breaks a rule."""

    status = 422


class Invalid(Unprocessable):
    """An answer (verdict, rating, ranking, scores) the project's rules do not accept: the
    labelling page shows the same work again with the reason."""


class NotAuthenticated(DomainError):
    """No valid credentials: 401 for the API, a redirect to the login page for pages."""

    status = 401


class Forbidden(DomainError):
    status = 403
