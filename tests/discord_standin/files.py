"""File uploads: the multipart/form-data bodies discord.py sends with files, attachments, and
the files people attach to slash commands.

discord.py sends a message with files as multipart/form-data: a `payload_json` part holding
the JSON body it would otherwise have sent (with an `attachments` array of `{"id": n,
"filename": ...}` entries), then one `files[n]` part per file, each declared
`application/octet-stream`. Discord stores each file as an attachment with a snowflake id, its
size, CDN urls and the media type it detects from the file name. A file over the upload limit
(10 MiB without server boosts) is refused with 413 / 40005, more than 10 on one message with
50035.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import DiscordError

UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes per file, the default for a server without boosts
MAX_ATTACHMENTS = 10
# The largest request body the stand-in reads, so that a refusal still comes as Discord's.
MAX_REQUEST_BYTES = (MAX_ATTACHMENTS + 2) * UPLOAD_LIMIT
TOO_LARGE = DiscordError(413, 40005, "Request entity too large")
_FILE_FIELD = re.compile(r"files\[(\d+)\]")


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart request, before Discord made it an attachment."""

    index: int  # the n of its `files[n]` field, which `attachments[].id` refers to
    filename: str
    data: bytes


@dataclass(frozen=True)
class Attachment:
    """A file on a message the bot sent, with the bytes it uploaded."""

    filename: str
    content_type: str | None  # as the message payload reports it; None when Discord omits it
    data: bytes
    id: int

    @property
    def size(self) -> int:
        """The size in bytes, as the attachment object reports it."""
        return len(self.data)

    def __repr__(self) -> str:
        return f"<Attachment {self.filename!r} {self.content_type} {self.size} bytes>"


@dataclass(frozen=True)
class AttachedFile:
    """A file a person picks for a slash command's attachment option."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Body:
    """A request body: its JSON (the `payload_json` part of a multipart one) and its files."""

    json: Any
    uploads: dict[int, Upload]


async def read_body(request: web.Request) -> Body:
    """The JSON and the files of a request, whichever way it was sent.

    Every part is read to its end, even past the upload limit, so the refusal reaches the
    client as a response rather than as a connection cut while it is still sending.
    """
    if not request.can_read_body:
        return Body(None, {})
    if request.content_type == "application/json":
        return Body(await request.json(), {})
    if request.content_type != "multipart/form-data":
        return Body(None, {})
    payload: Any = {}
    uploads: dict[int, Upload] = {}
    too_large = False
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue  # a nested multipart body; discord.py never sends one
        try:
            data = await part.read()
        except web.HTTPRequestEntityTooLarge:  # beyond even what the stand-in will buffer
            raise TOO_LARGE from None
        field = _FILE_FIELD.fullmatch(part.name or "")
        if part.name == "payload_json":
            payload = json.loads(data)
        elif field is not None:
            index = int(field.group(1))
            uploads[index] = Upload(index, part.filename or f"file{index}", bytes(data))
            too_large = too_large or len(data) > UPLOAD_LIMIT
    if too_large:
        raise TOO_LARGE
    return Body(payload, uploads)


def detected_type(filename: str) -> str | None:
    """The media type Discord reports for a file name (text types with their charset), if any.

    discord.py declares every file `application/octet-stream`, so Discord goes by the name.
    """
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed is None:
        return None
    if guessed.startswith("text/") or guessed == "application/json":
        return f"{guessed}; charset=utf-8"
    return guessed
