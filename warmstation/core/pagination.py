"""The one list model (docs/decisions/0004-list-model.md).

API: every list operation is `@paginate`d with `BoundedLimitOffset` (the project's
NINJA_PAGINATION_CLASS): `?limit=` 1–200 (default 50) and `?offset=` 0–1,000,000, both bounded
so a huge value is a 422 rather than an integer overflow in the database; the answer is
`{"items": [...], "count": <the true total>}` (counted only when the page is full or past the
end: a page that is not full gives it). An operation returns its scoped, ordered
queryset — never a slice of it — or, when each row needs more than the schema can read off the
model (masking for the viewer, a computed open/closed state), `Rows(queryset, render)`: only
the page's rows are rendered, in one call, so a page costs the same number of queries whatever
the total.

Pages: `page_list(request, queryset)` gives the same bounded page of a list for a template, and
`core/partials/_pager.html` shows it (total, page x / y, previous and next links that keep the
other filters). A page number out of range shows the first or the last page, never a 500.

A ranked search that answers "the best k" (the nearby search's `limit`) is not a list and is
not paged; its `limit` is bounded all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

PAGE_SIZE = settings.NINJA_PAGINATION_PER_PAGE
MAX_PAGE_SIZE = settings.NINJA_PAGINATION_MAX_LIMIT


class Rows:
    """A queryset whose page is rendered by `render(list_of_rows) -> list_of_items`.

    Ninja's pagination slices it and counts it as it would the queryset; `render` sees only the
    rows of the requested page (so it may fetch what they need in one query per relation)."""

    def __init__(self, queryset: QuerySet[Any],
                 render: Callable[[list[Any]], Sequence[Any]]):
        self.queryset: QuerySet[Any] = ordered(queryset)
        self.render = render

    def all(self) -> QuerySet[Any]:  # what ninja counts
        return self.queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Any]:
        return list(self.render(list(self.queryset[item])))


def ordered(queryset: Any) -> Any:
    """A page of an unordered queryset is not a page (rows may repeat or go missing between
    pages): order by primary key when nothing else orders it."""
    if isinstance(queryset, QuerySet) and not queryset.ordered:
        return queryset.order_by("pk")
    return queryset


class BoundedLimitOffset(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE,
                           description=f"Page size, 1–{MAX_PAGE_SIZE}.")
        offset: int = Field(0, ge=0, le=settings.NINJA_PAGINATION_MAX_OFFSET,
                            description="Rows to skip.")

    def paginate_queryset(self, queryset: QuerySet[Any], pagination: Any,
                          request: HttpRequest, **params: Any) -> Any:
        """The page's rows first; then the total, which a page that is not full already tells
        (the rows before it plus its own), so a worker's short list is one query, not two."""
        queryset = ordered(queryset)
        offset, limit = pagination.offset, min(pagination.limit, self.max_limit)
        items = list(queryset[offset:offset + limit])
        if len(items) < limit and (items or not offset):
            count = offset + len(items)
        else:
            count = self._items_count(queryset)
        return {self.items_attribute: items, "count": count}


@dataclass
class PageList:
    """One page of a list for a template: `items`, the true `count`, and where the neighbours
    are (`query` is the request's other parameters, for links that keep the filters)."""

    items: list[Any]
    count: int
    number: int
    num_pages: int
    per_page: int
    query: str
    param: str = "page"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_number(self) -> int:
        return max(1, self.number - 1)

    @property
    def next_number(self) -> int:
        return min(self.num_pages, self.number + 1)

    @property
    def start_index(self) -> int:
        return 0 if not self.count else (self.number - 1) * self.per_page + 1

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def page_list(request: HttpRequest, queryset: QuerySet[Any] | Rows | Iterable[Any], *,
              per_page: int = PAGE_SIZE, param: str = "page") -> PageList:
    """The page `?page=` of `queryset` (ordered, `per_page` rows, at most MAX_PAGE_SIZE). A
    missing, malformed or out-of-range page number gives the first or the last page. Two
    lists on one page each take their own `param`."""
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    source = queryset.queryset if isinstance(queryset, Rows) else ordered(queryset)
    paginator = Paginator(source, per_page, allow_empty_first_page=True)
    raw = (request.GET.get(param) or "").strip()
    if raw == "last" or (raw.isascii() and raw.isdigit()):
        number = paginator.num_pages if raw == "last" or len(raw) > 9 else int(raw)
    else:
        number = 1
    number = max(1, min(number, paginator.num_pages))
    page = paginator.page(number)
    items = list(page.object_list)
    if isinstance(queryset, Rows):
        items = list(queryset.render(items))
    query = request.GET.copy()
    query.pop(param, None)
    return PageList(items=items, count=paginator.count, number=number,
                    num_pages=paginator.num_pages, per_page=per_page, query=query.urlencode(),
                    param=param)
