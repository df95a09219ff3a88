"""Masking of personal data for roles that do not need to see it in full (PIPL data minimisation)."""

from django.utils.translation import gettext as _

# A closed account keeps its row (ledger entries, cases and audit lines point at it) under this
# placeholder instead of a mobile (accounts/privacy.py); it is shown as "closed", not masked.
CLOSED_ACCOUNT_PREFIX = "closed-"


def mask_mobile(mobile: str | None) -> str:
    """138****1234: keep the carrier prefix and the last four digits."""
    if not mobile:
        return ""
    if mobile.startswith(CLOSED_ACCOUNT_PREFIX):
        return str(_("已注销"))
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_id_number(value: str | None) -> str:
    """110111********1234: keep the region prefix and the last four characters."""
    if not value:
        return ""
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}" if len(value) > 10 else "*" * len(value)


def mask_name(name: str | None) -> str:
    """张** — the family name only."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)
