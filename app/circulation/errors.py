"""What circulation refuses, in the library's words. The services raise these; the API
(circulation.api) decides which HTTP answer each one becomes."""


class CirculationError(Exception):
    """A rule of the library refused the request."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CopyGone(CirculationError):
    """The copy was deleted after the request named it."""


class CopyNotLendable(CirculationError):
    """The copy is for reference, in repair or lost."""


class CopyOnLoan(CirculationError):
    """Someone else has the copy."""


class LoanLimitReached(CirculationError):
    """The borrower already has the most open loans allowed (LIBRARY_MAX_OPEN_LOANS)."""


class LoanGone(CirculationError):
    """The loan was deleted after the request named it."""


class AlreadyReturned(CirculationError):
    """The loan was returned before."""
