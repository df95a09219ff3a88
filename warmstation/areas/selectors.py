from django.db.models import QuerySet

from warmstation.areas.models import Area, AreaContact


def area_ancestors(area: Area) -> list[Area]:
    """The area and the areas above it, nearest first (one query, by path)."""
    codes = [c for c in area.path.strip("/").split("/") if c]
    by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
    return [by_code[c] for c in reversed(codes) if c in by_code]


def area_card(area: Area) -> list[AreaContact]:
    """The contacts a worker in `area` should see: for each kind, the nearest area's lines
    (a community's own community office, its street's hotline and steward …)."""
    chain = area_ancestors(area)
    rank = {a.pk: i for i, a in enumerate(chain)}
    contacts = AreaContact.objects.filter(area__in=chain).select_related("area")
    nearest: dict[str, int] = {}
    for c in contacts:
        nearest[c.kind] = min(nearest.get(c.kind, 99), rank[c.area_id])
    order = list(AreaContact.Kind.values)
    chosen = [c for c in contacts if rank[c.area_id] == nearest[c.kind]]
    return sorted(chosen, key=lambda c: (order.index(c.kind), c.pk))


def area_tree() -> QuerySet[Area]:
    return Area.objects.order_by("path")
