from datetime import datetime
from typing import Annotated

from ninja import Schema

from warmstation.core.schemas import Line


class InboxItemOut(Schema):
    """One notice in a person's inbox."""

    id: int  # the notice's id
    kind: str
    kind_label: str
    title: str
    body: str
    area_code: str
    published_at: datetime | None
    read_at: datetime | None


class UnreadOut(Schema):
    unread: int


class ReadOut(Schema):
    id: int
    read_at: datetime | None


class GroupOut(Schema):
    id: int
    name: str
    patch: str
    area_code: str
    area_name: str


class JoinIn(Schema):
    token: Annotated[str, Line(32, min_length=1)]
