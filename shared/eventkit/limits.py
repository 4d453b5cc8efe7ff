"""Size limits on write requests, so nothing is accepted that the store, the relay or Kafka cannot carry.

Each command becomes an event and an outbox row; the relay must publish it to Kafka (1 MB per record by
default). A body over the limit is refused here, before FastAPI or the domain sees it, and so is a JSON
list or string longer than any command needs. No refusal echoes the request's content: it may be personal.
"""

from __future__ import annotations

import json
from email.message import Message as MediaType
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import get_logger

log = get_logger(__name__)

METHODS_WITH_A_BODY = {"POST", "PUT", "PATCH"}


class Limits(BaseModel):
    """The largest request a write API accepts (env ``VANTRUM_LIMITS__MAX_BODY_BYTES`` etc.)."""

    max_body_bytes: int = Field(65_536, gt=0)
    """A command is a few hundred bytes; 64 KiB leaves room for any real one and keeps events far below Kafka's 1 MB."""
    max_list_items: int = Field(100, gt=0)
    """Lists name people or authorities at one meeting or plan: 100 is far more than any real one."""
    max_text_chars: int = Field(2_000, gt=0)
    """Free text is a place or a reason of a sentence or two; longer text does not belong in an event."""


class RequestLimits:
    """Pure ASGI middleware: 413 for a body over ``max_body_bytes``, 422 for a JSON list or string over its limit.

    Pure ASGI (not BaseHTTPMiddleware) so the body is read chunk by chunk and reading stops at the limit.
    """

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS_WITH_A_BODY:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            await self._too_large(scope, receive, send)
            return

        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone before the body was complete: no one to answer, nothing to store
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limits.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        if body and _is_json(headers.get("content-type")) and (error := self._first_too_long(body)):
            loc, msg, limit = error
            log.info("request refused", path=scope["path"], status=422, **{limit: getattr(self.limits, limit)})
            # The same shape as http.InvalidRequest (http imports this module, so it cannot be imported here).
            response = JSONResponse({"detail": [{"type": "too_long", "loc": loc, "msg": msg}]}, status_code=422)
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: http.disconnect when the client goes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.max_body_bytes
        log.info("request refused", path=scope["path"], status=413, max_body_bytes=limit)
        # The same shape as http.Refusal.
        detail = f"The request body is larger than the {limit} bytes a request may have"
        await JSONResponse({"rule": "request-too-large", "detail": detail}, status_code=413)(scope, receive, send)

    def _first_too_long(self, body: bytes) -> tuple[list[str | int], str, str] | None:
        """Where the first list or string over its limit is (in document order), what is wrong, and the limit's name."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # malformed JSON: FastAPI answers it with its own 422
        max_items, max_chars = self.limits.max_list_items, self.limits.max_text_chars
        # Depth first without recursion: the parser accepts nesting deeper than a recursive walk could follow.
        pending: list[tuple[list[str | int], Any]] = [(["body"], document)]
        while pending:
            loc, value = pending.pop()
            if isinstance(value, str) and len(value) > max_chars:
                return loc, f"String should have at most {max_chars} characters", "max_text_chars"
            if isinstance(value, list):
                if len(value) > max_items:
                    return loc, f"List should have at most {max_items} items", "max_list_items"
                pending.extend((loc + [index], item) for index, item in reversed(list(enumerate(value))))
            elif isinstance(value, dict):
                if any(len(key) > max_chars for key in value):
                    return loc, f"Field names should have at most {max_chars} characters", "max_text_chars"
                pending.extend((loc + [key], item) for key, item in reversed(list(value.items())))
        return None


def _is_json(content_type: str | None) -> bool:
    """As FastAPI decides it; without a content type a route may still parse the body as JSON, so check it too."""
    if not content_type:
        return True
    media_type = MediaType()
    media_type["content-type"] = content_type
    subtype = media_type.get_content_subtype()
    return media_type.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
