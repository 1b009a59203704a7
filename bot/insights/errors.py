"""Errors of the insights, each carrying its HTTP status; their messages are fixed texts that
never contain the input. They extend the handoff's errors so the console's edge maps them."""

from __future__ import annotations

from bot.handoff import errors


class InvalidPeriod(errors.InvalidInput):
    """The date range is malformed, reversed, or longer than the reports allow."""

    code = "invalid_period"


class InvalidParameter(errors.InvalidInput):
    """A query parameter other than the dates has a bad value."""

    code = "invalid_parameter"


class UnknownIntent(errors.InvalidInput):
    """A review label that is neither an intent of the domain nor ``ignore``."""

    code = "unknown_intent"


class ReviewItemNotFound(errors.NotFound):
    """No review item with that id."""

    code = "review_item_not_found"


class UnsafeExportPath(ValueError):
    """An export path inside the training data (exports are merged by hand, never written there)."""
