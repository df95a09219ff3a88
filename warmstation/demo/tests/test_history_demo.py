"""The demo's past (demo/history.py): twelve months of cases, check-ins and redemptions made
through the services, in seasonal shapes, with a ledger that still proves itself; loading the
demo again adds nothing. The one module that loads the history (the rest of the suite seeds
without it): about a seventh of the full size, for a fixed year, so that every month is whole."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncMonth

from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.benefits.models import Redemption
from warmstation.core.models import AuditEvent
from warmstation.core.time import LOCAL
from warmstation.demo.seed import seed_demo
from warmstation.points.models import LedgerTransaction
from warmstation.stations.models import ServiceRecord
from warmstation.volunteering.models import Signup

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)  # the history is Dec 2025 – Nov 2026; Spring Festival on 17 Feb
MONTHS = {date(2025, 12, 1)} | {date(2026, m, 1) for m in range(1, 12)}
ARGS = {"workers": 30, "history": True, "history_scale": 0.15, "history_today": TODAY}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seeded once for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo(**ARGS)
        transaction.set_rollback(True)


def _months(qs, field: str) -> dict[date, int]:
    rows = (qs.exclude(**{field: None}).annotate(m=TruncMonth(field, tzinfo=LOCAL))
            .values("m").annotate(n=Count("id")))
    return {r["m"].date(): r["n"] for r in rows}


def test_twelve_months_of_cases_redemptions_and_check_ins(demo):
    assert demo["history"]["created"]
    cases = _months(Appeal.objects.all(), "created_at")
    redemptions = _months(Redemption.objects.filter(status="redeemed"), "redeemed_at")
    check_ins = _months(ServiceRecord.objects.filter(kind="check_in"), "at")
    for name, months in (("cases", cases), ("redemptions", redemptions),
                         ("check-ins", check_ins)):
        assert set(months) >= MONTHS, (name, sorted(MONTHS - set(months)))
    # Shapes: Spring Festival's February is the quietest month, the summer heat the busiest.
    assert check_ins[date(2026, 2, 1)] == min(check_ins[m] for m in MONTHS)
    assert check_ins[date(2026, 7, 1)] > 2 * check_ins[date(2026, 2, 1)]
    assert check_ins[date(2026, 7, 1)] > check_ins[date(2026, 4, 1)]
    # Cases went through their steps, at their own moments: most old ones are closed, rated.
    old = Appeal.objects.filter(created_at__date__lt=date(2026, 10, 1))
    assert old.filter(status="closed").count() > 0.8 * old.count()
    assert old.exclude(satisfaction="").count() > 0.8 * old.count()
    closed = old.filter(status="closed").first()
    assert closed is not None and closed.closed_at > closed.created_at
    # Volunteer hours were confirmed and paid; the audit trail is dated with the events.
    assert Signup.objects.exclude(confirmed_at=None).filter(points__gt=0).exists()
    assert AuditEvent.objects.filter(at__date__lt=date(2026, 1, 1)).exists()


def test_workers_register_through_the_year_and_act_only_after_they_joined(demo):
    from django.db.models import Min, OuterRef, Subquery

    from warmstation.accounts.models import User

    workers = User.objects.filter(worker_profile__isnull=False, mobile__startswith="1990000")
    joined = _months(workers, "date_joined")
    in_year = [joined.get(m, 0) for m in MONTHS]
    assert sum(in_year) >= 0.25 * workers.count()  # a share registered during the year …
    assert joined.get(date(2026, 12, 1), 0) == 0   # … and none of them all at once, today
    assert sum(1 for n in in_year if n) >= 6
    first_act = (AuditEvent.objects.filter(actor_id=OuterRef("pk")).order_by()
                 .values("actor_id").annotate(first=Min("at")).values("first"))
    early = workers.annotate(first=Subquery(first_act[:1])).exclude(first=None)
    assert early.exists()
    assert not [u.mobile for u in early if u.first < u.date_joined]


def test_the_ledger_still_proves_itself(demo):
    assert LedgerTransaction.objects.filter(kind="reversal").exists()
    assert LedgerTransaction.objects.filter(kind="spend").exists()
    out = io.StringIO()
    call_command("ledger_verify", "--full", "--no-checkpoint", stdout=out)
    assert out.getvalue().startswith("ledger ok"), out.getvalue()
    # The chain is in time order: the past was posted before the present day.
    times = list(LedgerTransaction.objects.order_by("seq").values_list("created_at", flat=True))
    assert times == sorted(times)


def test_loading_again_changes_nothing(demo):
    models = (Appeal, AppealEvent, ServiceRecord, Redemption, LedgerTransaction, Signup)
    before = [m.objects.count() for m in models]
    again = seed_demo(**ARGS)
    assert again["history"] == {"created": False}
    assert [m.objects.count() for m in models] == before
