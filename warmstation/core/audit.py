"""The audit trail: one call, `audit_record`, used by every app for every event worth keeping."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from warmstation.core.masking import mask_mobile
from warmstation.core.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # X-Real-IP only when the deployment says its proxy overwrites it (TRUST_X_REAL_IP);
    # otherwise a client could write any address into the audit trail.
    if settings.TRUST_X_REAL_IP and request.META.get("HTTP_X_REAL_IP"):
        return request.META["HTTP_X_REAL_IP"]
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    action: str,
    *,
    actor=None,
    actor_label: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    result: str = AuditEvent.Result.OK,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    if actor is not None and not actor_label:
        actor_label = mask_mobile(actor.mobile)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        result=result,
        ip=client_ip(request),
        detail=detail or {},
    )
