"""Masking of personal data for roles that do not need to see it in full (PIPL data minimisation)."""


def mask_mobile(mobile: str | None) -> str:
    """138****1234: keep the carrier prefix and the last four digits."""
    if not mobile:
        return ""
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
