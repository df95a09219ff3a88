"""The policy Q&A (政策问答): search in Chinese by character bigrams, and its maintenance.

Chinese is written without spaces, so a query is cut into overlapping pairs of characters
("社保断缴" → 社保, 保断, 断缴) plus any Latin/number words; an answer scores one point per pair
found in its question and keywords (double) or answer. The score is computed in SQL (a sum of
`CASE WHEN … icontains`), which is fine for a knowledge base of a few thousand answers."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from warmstation.appeals.models import PolicyAnswer
from warmstation.core.audit import audit_record
from warmstation.core.errors import InvalidInput

_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[A-Za-z0-9]{2,}")


def terms_of(text: str) -> list[str]:
    text = (text or "")[:200]
    terms: list[str] = []
    for run in _CJK.findall(text):
        terms += [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
    terms += [w.lower() for w in _WORD.findall(text)]
    return list(dict.fromkeys(terms))[:40]


def policy_ranked(query: str, *, topic: str | None = None) -> QuerySet[PolicyAnswer]:
    """Active answers best match first: each term found in the question or keywords scores 2,
    in the answer 1 (computed by the database, so every matching answer is ranked and counted —
    none is dropped before paging). Without a query: every active answer, by topic."""
    qs = PolicyAnswer.objects.filter(is_active=True)
    if topic:
        qs = qs.filter(topic=topic)
    if not (query or "").strip():
        return qs.order_by("topic", "pk")
    terms = [t for t in terms_of(query) if len(t) >= 2] or terms_of(query)
    if not terms:
        return qs.none()
    score = sum((Case(When(Q(question__icontains=t) | Q(keywords__icontains=t), then=Value(2)),
                      default=Value(0)) +
                 Case(When(answer__icontains=t, then=Value(1)), default=Value(0))
                 for t in terms), Value(0))
    return qs.annotate(score=score).filter(score__gt=0).order_by("-score", "pk")


def policy_search(query: str, *, topic: str | None = None, limit: int = 5) -> list[PolicyAnswer]:
    """The `limit` best answers (the suggestions beside a need being typed)."""
    return list(policy_ranked(query, topic=topic)[:limit]) if (query or "").strip() else []


def policy_answer_save(*, actor, entry: PolicyAnswer, request=None, **fields) -> PolicyAnswer:
    """Create (unsaved `entry`) or change a policy answer."""
    answer = entry
    for key, value in fields.items():
        setattr(answer, key, value)
    if answer.topic not in PolicyAnswer.Topic.values or not (answer.question or "").strip() \
            or not (answer.answer or "").strip():
        raise InvalidInput(_("请填写类别、问题和答案。"))
    answer.search_text = f"{answer.question}\n{answer.keywords}\n{answer.answer}".lower()
    created = answer.pk is None
    with transaction.atomic():
        answer.save()
        audit_record("policy_answer.create" if created else "policy_answer.update",
                     actor=actor, obj=answer, request=request)
    return answer
