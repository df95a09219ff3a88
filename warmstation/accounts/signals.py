"""Cached bearer-token sign-ins (accounts/services.api_token_authenticate) are forgotten whenever
the person, one of their grants or one of their tokens changes. Bulk updates send no signal:
the services that make them call `api_principals_forget` themselves."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from warmstation.accounts.models import ApiToken, RoleGrant, User
from warmstation.accounts.services import api_principals_forget


def _user_saved(sender, instance: User, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in's timestamp: nothing a token's sign-in depends on
    api_principals_forget(instance.pk)


def _token_saved(sender, instance: ApiToken, created: bool = False, **kwargs) -> None:
    if not created:  # a new token has nothing cached yet
        api_principals_forget(instance.user_id)


def _token_deleted(sender, instance: ApiToken, **kwargs) -> None:
    # Named by its hash: once the deletion commits, the person's tokens no longer list it.
    api_principals_forget(instance.user_id, also=[instance.key_hash])


def _grant_changed(sender, instance: RoleGrant, **kwargs) -> None:
    api_principals_forget(instance.user_id)


def connect() -> None:
    post_save.connect(_user_saved, sender=User, dispatch_uid="auth-cache-user")
    post_delete.connect(_user_saved, sender=User, dispatch_uid="auth-cache-user-del")
    post_save.connect(_token_saved, sender=ApiToken, dispatch_uid="auth-cache-token")
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="auth-cache-token-del")
    post_save.connect(_grant_changed, sender=RoleGrant, dispatch_uid="auth-cache-grant")
    post_delete.connect(_grant_changed, sender=RoleGrant, dispatch_uid="auth-cache-grant-del")
