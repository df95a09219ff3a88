"""A person's volunteering in their copy, and what closing the account leaves behind."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import as_level, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import account_close
from warmstation.core.privacy import person_export
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering import errands, records, services
from warmstation.volunteering.models import Errand, ServiceRecord, Signup
from warmstation.volunteering.tests.factories import make_organiser, make_shift, make_task


def test_the_copy_and_the_closing(tree):
    make_rule("volunteer_shift", 20)
    make_rule("errand_elderly", 10, source="errand")
    organiser = make_organiser(tree["gc"])
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    worker.real_name = "欧阳明辉"
    worker.save(update_fields=["real_name"])
    resident = as_level(make_user(Role.RESIDENT, tree["ylj"]), AuthLevel.CODE)
    task = make_task(tree["ylj"], organiser=organiser)
    start = timezone.now() - timedelta(hours=4)
    s = services.shift_signup(worker=worker, shift_id=make_shift(task, starts_at=start).pk,
                              now=start - timedelta(days=1))
    services.attendance_mark(actor=organiser, signup=s, action="check_in", now=start)
    services.attendance_mark(actor=organiser, signup=s, action="check_out",
                             now=start + timedelta(hours=1))
    services.attendance_confirm(actor=organiser, signup=s)
    record = records.record_issue(worker=worker)
    asked = errands.errand_ask(resident=resident, title="取药", address="5号楼", phone="13911112222")
    errands.errand_worker_verify(actor=organiser, worker=worker)
    errands.errand_take(worker=worker, errand=asked)

    copy = person_export(worker)["volunteering"]
    assert copy["shifts"][0]["minutes"] == 60 and copy["records"][0]["number"] == record.number
    assert copy["errands_run"][0]["title"] == "取药"
    assert "5号楼" not in str(copy)  # the resident's details are not the worker's data
    assert person_export(resident)["volunteering"]["errands_asked"][0]["title"] == "取药"

    account_close(user=resident)
    e = Errand.objects.get(pk=asked.pk)
    assert (e.resident_id, e.resident_name, e.resident_address, e.resident_phone) == \
        (None, "", "", "")
    account_close(user=worker)
    r = ServiceRecord.objects.get(pk=record.pk)
    assert r.revoked_at is not None and r.masked_name == "已注销"
    assert Signup.objects.filter(pk=s.pk, minutes=60).exists()  # the hours' counts stay
    assert not ServiceRecord.objects.filter(masked_name__startswith="欧").exists()
