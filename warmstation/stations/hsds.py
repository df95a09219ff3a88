"""Open Referral HSDS 3.0 read API at /hsds/: our warm stations as services (the station's
offer to workers) at locations (the station's place) with weekly schedules, provided by
organizations (the station's operator: 区总工会, 团区委 …), classified by three taxonomies
(amenities, service items, station kinds), so other service directories can import them.

A service's id is the station's public UUID; the ids of the records derived from it (location,
schedules, attributes …) and of organizations, taxonomies and terms are uuid5 of a stable key,
so they are the same in every export. Every document is valid against the official 3.0 schemas
(`../shared/peer/hsds/3.0/`, checked by tests/test_hsds_schemas.py): a value we do not have is
left out, never sent as null, and no field of a later version is sent. What each field means in
our data: docs/hsds.md."""

from __future__ import annotations

from ninja import Query, Router

from warmstation.core.errors import NotFound
from warmstation.core.schemas import Moment, ProblemOut
from warmstation.stations.directory import (
    ORGANIZATION_NOTE,
    TAXONOMIES,
    all_terms,
    base_url,
    chunk,
    matches,
    operators,
    organization,
    organization_full,
    page,
    prune,
    published_station,
    sal_id,
    selected_stations,
    service,
    service_at_location,
    stations_by_operator,
    status_of,
    tax_id,
    taxonomy,
    term,
)
from warmstation.stations.models import Station

# Mounted on its own NinjaAPI at /hsds/ by config/hsds.py (the API instances live in config).
router = Router()


# --- operations ---------------------------------------------------------------------------------

PageNumber = Query(1, ge=1, le=100_000, alias="page", description="Page number, from 1.")
PerPage = Query(50, ge=1, le=200, description="Results in one page (1..200).")
Search = Query(None, max_length=64, description=(
    "Full text search (Chinese or English) over names, descriptions and addresses."))
TermId = Query(None, max_length=64, description=(
    "Only services classified by this taxonomy term (an id from /taxonomy_terms)."))
TaxonomyId = Query(None, max_length=64, description=(
    "Only services with any term of this taxonomy (an id from /taxonomies)."))
OrganizationId = Query(None, max_length=64, description=(
    "Only services of this organization (an id from /organizations)."))
Full = Query(False, description="true: fully nested records.")
ModifiedAfter = Query(None, description=(
    "Only records modified on or after this ISO 8601 date-time (e.g. 2026-01-01T08:00:00+08:00;"
    " without a zone it is read as Beijing time)."))


@router.get("/", url_name="hsds_root", operation_id="getAPIMetaInformation",
            summary="About this API and its relationship with HSDS", response={200: dict})
def meta(request):
    return {"version": "3.0", "profile": "https://docs.openreferral.org/en/latest/hsds/",
            "openapi_url": request.build_absolute_uri("/hsds/openapi.json")}


@router.get("/services", url_name="hsds_services", operation_id="getPaginatedListOfServices",
            summary="Services (one per warm station), paginated",
            response={200: dict, 422: ProblemOut})
def list_services(request, search: str | None = Search, page_number: int = PageNumber,
                  per_page: int = PerPage, taxonomy_term_id: str | None = TermId,
                  taxonomy_id: str | None = TaxonomyId,
                  organization_id: str | None = OrganizationId,
                  modified_after: Moment | None = ModifiedAfter, full: bool = Full):
    qs = selected_stations(search=search, organization_id=organization_id,
                   modified_after=modified_after, taxonomy_term_id=taxonomy_term_id,
                   taxonomy_id=taxonomy_id)
    total = qs.count()
    base = base_url(request)
    return page([service(s, full=full, base=base) for s in chunk(qs, page_number, per_page)],
                total, page_number, per_page)


@router.get("/services/{service_id}", url_name="hsds_service",
            operation_id="getFullyNestedServiceById", summary="One fully nested service",
            response={200: dict, 404: ProblemOut})
def get_service(request, service_id: str):
    return prune(service(published_station(service_id), full=True, base=base_url(request)))


@router.get("/organizations", url_name="hsds_organizations",
            operation_id="getPaginatedListOfOrganizations",
            summary="Organizations running warm stations", response={200: dict, 422: ProblemOut})
def list_organizations(request, search: str | None = Search, page_number: int = PageNumber,
                       per_page: int = PerPage, full: bool = Full,
                       full_service: bool = Query(False, description=(
                           "With full=true: the organization's services fully nested."))):
    names = sorted(n for n in operators().values()
                   if not search or matches(search, n, f"{n}{ORGANIZATION_NOTE}"))
    shown = chunk(names, page_number, per_page)
    if full:
        grouped, base = stations_by_operator(shown), base_url(request)
        items = [organization_full(n, grouped[n], full_service=full_service, base=base)
                 for n in shown]
    else:
        items = [organization(n) for n in shown]
    return page(items, len(names), page_number, per_page)


@router.get("/organizations/{organization_id}", url_name="hsds_organization",
            operation_id="getOrganizationById",
            summary="One organization, with its locations and services",
            response={200: dict, 404: ProblemOut, 422: ProblemOut})
def get_organization(request, organization_id: str,
                     full_service: bool = Query(False, description=(
                         "true: the services fully nested (false: id, name and status)."))):
    name = operators().get(organization_id)
    if name is None:
        raise NotFound()
    stations = stations_by_operator([name])[name]
    return prune(organization_full(name, stations, full_service=full_service,
                                     base=base_url(request)))


@router.get("/service_at_locations", url_name="hsds_service_at_locations",
            operation_id="getPaginatedListOfServiceAtLocation",
            summary="Each station's service at its place (with schedules when full=true)",
            response={200: dict, 422: ProblemOut})
def list_service_at_locations(request, search: str | None = Search,
                              taxonomy_term_id: str | None = TermId,
                              taxonomy_id: str | None = TaxonomyId,
                              organization_id: str | None = OrganizationId,
                              modified_after: Moment | None = ModifiedAfter,
                              full: bool = Full, page_number: int = PageNumber,
                              per_page: int = PerPage):
    qs = selected_stations(search=search, organization_id=organization_id,
                   modified_after=modified_after, taxonomy_term_id=taxonomy_term_id,
                   taxonomy_id=taxonomy_id)
    total = qs.count()
    base = base_url(request)
    return page([service_at_location(s, full=full, base=base)
                 for s in chunk(qs, page_number, per_page)], total, page_number, per_page)


@router.get("/service_at_locations/{service_at_location_id}",
            url_name="hsds_service_at_location",
            operation_id="getServiceAtLocationWithNestedDataById",
            summary="One station's service at its place, fully nested",
            response={200: dict, 404: ProblemOut})
def get_service_at_location(request, service_at_location_id: str):
    # The id is uuid5 of the station's public id: found among the published stations' ids
    # (one column of one query, no migration).
    public_id = next((p for p in Station.objects.filter(is_active=True).values_list(
        "public_id", flat=True) if sal_id(p) == service_at_location_id),
        None)
    if public_id is None:
        raise NotFound()
    station = published_station(str(public_id))
    out = service_at_location(station, full=True, base=base_url(request))
    # The 3.0 OpenAPI gives compiled/service.json as this operation's schema (3.1 corrects it
    # to service_at_location.json): the service's name and status make it valid under both.
    out |= {"name": station.name, "status": status_of(station)}
    return prune(out)


@router.get("/taxonomies", url_name="hsds_taxonomies",
            operation_id="getPaginatedListOfTaxonomies",
            summary="The taxonomies our services are classified by",
            response={200: dict, 422: ProblemOut})
def list_taxonomies(request, search: str | None = Search, page_number: int = PageNumber,
                    per_page: int = PerPage):
    found = [t for t in TAXONOMIES.values()
             if not search or matches(search, t.key, t.name, t.description)]
    base = base_url(request)
    return page([taxonomy(t, base) for t in chunk(found, page_number, per_page)], len(found),
                page_number, per_page)


@router.get("/taxonomies/{taxonomy_id}", url_name="hsds_taxonomy",
            operation_id="getTaxonomyById", summary="One taxonomy",
            response={200: dict, 404: ProblemOut})
def get_taxonomy(request, taxonomy_id: str):
    tax = next((t for t in TAXONOMIES.values() if tax_id(t.key) == taxonomy_id),
               None)
    if tax is None:
        raise NotFound()
    return taxonomy(tax, base_url(request))


@router.get("/taxonomy_terms", url_name="hsds_taxonomy_terms",
            # The 3.0 OpenAPI swaps the two terms operations' ids (the list is named
            # getTaxonomyTermById there); ours say what each one does.
            operation_id="getPaginatedListOfTaxonomyTerms",
            summary="The terms of our taxonomies", response={200: dict, 422: ProblemOut})
def list_taxonomy_terms(request, search: str | None = Search, page_number: int = PageNumber,
                        per_page: int = PerPage,
                        taxonomy_id: str | None = Query(None, max_length=64, description=(
                            "Only the terms of this taxonomy (an id from /taxonomies).")),
                        top_only: bool = Query(False, description=(
                            "Only top-level terms (ours are all top-level).")),
                        parent_id: str | None = Query(None, max_length=64, description=(
                            "Only the children of this term (ours have none)."))):
    found = [t for t in all_terms()
             if (taxonomy_id is None or tax_id(t.taxonomy.key) == taxonomy_id)
             and parent_id is None
             and (not search or matches(search, t.code, t.name_zh, t.name_en))]
    base = base_url(request)
    return page([term(t, base) for t in chunk(found, page_number, per_page)], len(found),
                page_number, per_page)


@router.get("/taxonomy_terms/{taxonomy_term_id}", url_name="hsds_taxonomy_term",
            operation_id="getTaxonomyTermById", summary="One taxonomy term",
            response={200: dict, 404: ProblemOut})
def get_taxonomy_term(request, taxonomy_term_id: str):
    found = next((t for t in all_terms() if t.id == taxonomy_term_id), None)
    if found is None:
        raise NotFound()
    return term(found, base_url(request))
