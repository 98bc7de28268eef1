"""How a mode handler fails the run on purpose."""

from __future__ import annotations


class RunFailed(Exception):  # noqa: N818 - the name says what it does to the run
    """End the run with exit code 1; the message is the one line shown in the Dev portal.

    Raise it for failures the user can act on ("the channel rejected 12% of the products"),
    worded as a sentence; the CLI logs it at level error and prints it on stderr.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
