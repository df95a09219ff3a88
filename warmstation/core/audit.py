"""The audit trail: one call, `audit_record`, used by every app for every event worth keeping.

Audit rows are append-only (the database refuses UPDATE), so they hold no person's mobile or
name, masked or not: a person is the actor's user id (anonymised when the account closes) or an
erasable AuditSubject (a number with no account yet). The audit page renders the mask at read
time (AuditEvent.who). See docs/security.md, "Privacy across apps"."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from warmstation.core.crypto import keyed_hash
from warmstation.core.masking import mask_mobile
from warmstation.core.models import AuditEvent, AuditSubject

if TYPE_CHECKING:
    from warmstation.core.privacy import Person


def address_in(address: str | None, networks: list[str] | tuple[str, ...]) -> bool:
    """Whether `address` is one of `networks` (addresses or CIDR networks)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(networks)))


def _trusted(address: str) -> bool:
    return address_in(address, settings.TRUSTED_PROXIES)


@functools.cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, as far as it can be trusted: rate limits and the audit trail key
    on it (docs/security.md#client-address).

    The connection's address (REMOTE_ADDR), unless that is one of `TRUSTED_PROXIES` (addresses
    or networks of our own reverse proxies): then X-Forwarded-For is read from the right, past
    the trusted proxies, and the first address that is not one of them is the client. A header
    sent by anyone else is ignored, so a client cannot choose its own address."""
    if request is None:
        return None
    remote: str | None = str(request.META.get("REMOTE_ADDR") or "") or None
    if remote and settings.TRUSTED_PROXIES and _trusted(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return remote  # garbage in the header: keep the proxy's own address
        real = request.META.get("HTTP_X_REAL_IP", "").strip()
        if real:
            with contextlib.suppress(ValueError):
                return str(ipaddress.ip_address(real))
        return remote
    # Older deployments: X-Real-IP from a proxy that overwrites it (TRUST_X_REAL_IP).
    if settings.TRUST_X_REAL_IP and request.META.get("HTTP_X_REAL_IP"):
        return str(request.META["HTTP_X_REAL_IP"])
    return remote


def audit_record(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_label: str = "",
    subject_mobile: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    result: str = AuditEvent.Result.OK,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event(action, actor=actor, actor_label=actor_label,
                        subject_mobile=subject_mobile, obj=obj, object_type=object_type,
                        object_id=object_id, result=result, request=request, detail=detail)
    event.save(force_insert=True)
    return event


def audit_event(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_label: str = "",
    subject_mobile: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    result: str = AuditEvent.Result.OK,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """The line `audit_record` writes, not yet written: for a caller that writes it with other
    rows in one statement (ADR 0019)."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    subject = audit_subject(subject_mobile) if subject_mobile and actor is None else None
    # By id: core does not know the user model (AUTH_USER_MODEL lives in an app).
    return AuditEvent(
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor_label[:64],
        subject=subject,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        result=result,
        ip=client_ip(request),
        detail=detail or {},
    )


def _subject_key(mobile: str) -> str:
    return keyed_hash("audit-subject", mobile)


def audit_subject(mobile: str) -> AuditSubject:
    """The subject row for a mobile number that acted without an account (found again by a
    keyed hash, so the same number's lines stay together)."""
    subject, _ = AuditSubject.objects.get_or_create(
        key=_subject_key(mobile), defaults={"label": mask_mobile(mobile)})
    return subject


def audit_subject_ids(mobile: str) -> list[int]:
    return list(AuditSubject.objects.filter(key=_subject_key(mobile)).values_list("pk", flat=True))


def audit_subject_erase(mobile: str) -> int:
    """Blank the subject of this number: its audit lines stay, now about nobody nameable."""
    return AuditSubject.objects.filter(key=_subject_key(mobile)).update(
        key=None, label="", erased_at=timezone.now())


def search_term_digest(term: str) -> dict[str, Any]:
    """How a search for a person is written to the (append-only) audit trail: its length and a
    keyed hash, never the name or number itself — the log of who searched for whom must not
    become a copy of the names searched for. An auditor holding the key can still check
    whether a given term was searched."""
    return {"length": len(term), "hmac": keyed_hash("audit-search", term)[:16]}


def audit_privacy_export(person: Person) -> dict[str, Any]:
    """The person's own lines of the audit trail (all of them: a copy is not a sample)."""
    subjects = audit_subject_ids(person.mobile)
    events = AuditEvent.objects.filter(
        models.Q(actor=person.user) | models.Q(subject__in=subjects)).order_by("at", "id")
    return {"activity": [
        {"at": e.at.isoformat(), "action": e.action, "result": e.result,
         "object_type": e.object_type, "object_id": e.object_id} for e in events.iterator()]}


def audit_privacy_erase(person: Person) -> None:
    """Audit lines stay (append-only); what named the person goes: the subject of their number
    is blanked here, and the user row their lines point at is anonymised by accounts."""
    audit_subject_erase(person.mobile)
