"""What a use case can refuse, as plain exceptions: no HTTP status, no response shape.

The API layer maps each class to a status code and the JSON error shape in one table
(``api/errors.py``); a CLI or an export job catches the same classes and says the same message.
``param`` names the parameter at fault, ``code`` is the machine-readable reason.
"""

from __future__ import annotations


class UseCaseError(Exception):
    code = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    @property
    def details(self) -> dict[str, str]:
        """Members the error adds beside its code, message and param, for a program to act on (the
        running export's id of a conflict); none by default."""
        return {}


class InvalidQuery(UseCaseError):
    """A parameter is malformed, out of range or inconsistent with another one."""

    code = "invalid_parameter"


class NotFound(UseCaseError):
    """No such log for this account: unknown, malformed, another account's, or past retention alike."""

    code = "request_log_not_found"


class ContentExpired(UseCaseError):
    """The log exists but its prompt and completion are past their 30-day retention."""

    code = "content_expired"


class Conflict(UseCaseError):
    """The request clashes with the account's current state (a second export while one runs)."""

    code = "conflict"


class ExportConflict(Conflict):
    """The account already has an export queued or running."""

    code = "export_in_progress"

    def __init__(self, running_export_id: str) -> None:
        super().__init__(
            f"Export '{running_export_id}' is still running: an account runs one export at a time. Wait for it "
            f"to finish (GET /api/account/request-logs/exports/{running_export_id}), then start this one."
        )
        self.running_export_id = running_export_id

    @property
    def details(self) -> dict[str, str]:
        # The id on its own as well as in the message: a client reattaches to it without parsing a sentence.
        return {"export_id": self.running_export_id}
