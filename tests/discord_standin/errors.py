"""Refusals in Discord's own shape, shared by the REST routes and the payload checks.

Discord answers a bad request body with 400 and JSON code 50035 "Invalid Form Body", plus an
`errors` tree that follows the body's nesting: `{"data": {"components": {"0": {"custom_id":
{"_errors": [{"code": ..., "message": ...}]}}}}}`. discord.py flattens that tree into the text
of the HTTPException it raises, so the nesting must be right for its message to make sense.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

Json = dict[str, Any]
Path = Sequence[str | int]

log = logging.getLogger(__name__)


class DiscordError(Exception):
    """A refusal in Discord's shape: HTTP status, JSON error code, message, field errors."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        """The error as the HTTP response Discord sends."""
        body: Json = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, status=self.status)


class NotEmulated(DiscordError):
    """Something Discord accepts that the stand-in does not emulate (a select menu, a modal).

    It answers 400, which discord.py raises at once (a 5xx would be retried for seconds), with
    a message that names the stand-in, and logs a warning: a test that meets it fails loudly
    instead of passing against behaviour Discord does not have.
    """

    def __init__(self, what: str):
        super().__init__(400, 0, f"400: the Discord stand-in does not emulate {what}")
        log.warning("the Discord stand-in does not emulate %s", what)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response whose Content-Type is exactly `application/json`, as discord.py requires."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def error_tree(path: Path, code: str, message: str) -> Json:
    """Discord's `errors` tree with one error at `path` (keys and list indices, outermost first)."""
    tree: Json = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        tree = {str(key): tree}
    return tree


def merge_trees(into: Json, tree: Json) -> Json:
    """Add the errors of `tree` to `into` (in place), keeping both where their paths meet."""
    for key, value in tree.items():
        if key == "_errors":
            into.setdefault("_errors", []).extend(value)
        elif key in into:
            merge_trees(into[key], value)
        else:
            into[key] = value
    return into


def form_error(path: Path, code: str, message: str) -> DiscordError:
    """Discord's 50035 Invalid Form Body for the field at `path`."""
    return DiscordError(400, 50035, "Invalid Form Body", error_tree(path, code, message))


def invalid_form(field: str, code: str, message: str) -> DiscordError:
    """Discord's 50035 Invalid Form Body for one field, a dotted path such as "data.choices"."""
    return form_error(field.split("."), code, message)
