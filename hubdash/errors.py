"""The one error type whose message is written for the person using the dashboard.

Library code raises a `HubdashError` (or a subclass) with a short title and a message that
names the file, row and column where they apply and says what to do. Pages catch only this
type and show it; the command line prints it on one line and exits non-zero. Anything else is
a bug and is allowed to propagate.
"""

from __future__ import annotations


class HubdashError(Exception):
    """An error meant for the user: `title` is a few words, `msg` says what and what to do."""

    title = "Something needs your attention"

    def __init__(self, msg: str, *, title: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        if title is not None:
            self.title = title

    def one_line(self) -> str:
        return f"{self.title}: {self.msg}".replace("\n", " ")


class IngestError(HubdashError):
    title = "This file could not be imported"


class SchemaError(HubdashError):
    title = "The data does not match the survey"


class StoreError(HubdashError):
    title = "The database could not be used"


class GeoError(HubdashError):
    title = "This geography file could not be loaded"


class AccessError(HubdashError):
    title = "Not allowed"
