from ninja import Schema


class LocalizedMessage(Schema):
    zh: str
    en: str


class ProblemOut(Schema):
    """application/problem+json (RFC 9457) with the message in Chinese and English."""

    type: str
    title: str
    status: int
    code: str
    detail: LocalizedMessage


# Status codes every authenticated operation may answer with (declared so that the OpenAPI
# schema lists them and schemathesis can hold us to it).
AUTH_ERRORS = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}
