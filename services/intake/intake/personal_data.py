"""Personal data at the HTTP edge: it is pseudonymised on arrival and never echoed back.

A personnummer field is a secret that normalises itself (Luhn-checked), and
validation errors leave out the input: FastAPI's own 422 echoes it, and for a
missing field the input is the whole body, personnummer included.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, SecretStr

from eventkit.pseudonym import normalise_personnummer

Personnummer = Annotated[
    SecretStr,
    AfterValidator(lambda raw: SecretStr(normalise_personnummer(raw.get_secret_value()))),
    Field(description="YYYYMMDD-NNNN or YYMMDD-NNNN; only its keyed pseudonym is kept", examples=["19811218-9876"]),
]


class FieldError(BaseModel):
    type: str
    loc: list[str | int] = Field(description="Where: 'body' or 'path', then the field")
    msg: str


class InvalidRequest(BaseModel):
    """FastAPI's validation errors, without the input they echo by default."""

    detail: list[FieldError]


def redact_validation_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [FieldError(type=e["type"], loc=list(e["loc"]), msg=e["msg"]) for e in error.errors()]
        return JSONResponse(InvalidRequest(detail=errors).model_dump(), status_code=422)
