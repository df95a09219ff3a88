"""What a ledger line says, in the reader's language.

The ledger is append-only: a transaction's memo stays as it was written, in Chinese — an
award's is its rule's Chinese name, a spend's the partner's name and offer title, a reversal's
"冲正 #<id>：<reason>". The words around those names are translated here, at display: a
reversal reads "Reversal of #12: <reason>" in English (the reason is what staff typed, shown as
typed), an award its rule's English name. Nothing stored is changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext

from warmstation.points.models import EarningRule, Entry, LedgerTransaction


def reversal_memo(original_id: int, reason: str) -> str:
    """The memo a reversal is stored with (points_reverse); `reversal_reason` reads it back."""
    return f"冲正 #{original_id}：{reason}"


def reversal_reason(tx: LedgerTransaction) -> str:
    """The reason part of a reversal's memo (the whole memo if it was written otherwise)."""
    prefix = reversal_memo(tx.reverses_id or 0, "")
    return tx.memo.removeprefix(prefix) if tx.memo.startswith(prefix) else tx.memo


def english_rule_names() -> dict[str, str]:
    return dict(EarningRule.objects.exclude(name_en="").values_list("action", "name_en"))


def line_label(tx: LedgerTransaction, *, rule_names: dict[str, str] | None = None) -> str:
    """The line's "what" in the active language: its kind and memo, a reversal with the
    transaction it reverses and why. `rule_names` maps actions to the rules' names in that
    language (None: the stored Chinese names)."""
    if tx.kind == LedgerTransaction.Kind.REVERSAL:
        return gettext("冲正 #%(id)s：%(reason)s") % {
            "id": tx.reverses_id,
            "reason": reversal_reason(tx),
        }
    memo = (rule_names or {}).get(tx.action, tx.memo) if tx.action else tx.memo
    return f"{tx.get_kind_display()} {memo}".strip()


def label_entries(entries: Iterable[Entry], *, language: str) -> None:
    """Set `label` on each entry (with its transaction selected) for a statement page."""
    names = english_rule_names() if (language or "").startswith("en") else None
    for e in entries:
        e.label = line_label(e.transaction, rule_names=names)  # type: ignore[attr-defined]
