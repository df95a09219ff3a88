"""A worker's housing and union data leave with them: in the copy, and erased on close (the
flat's nights freed, the survey answers gone, the union roll keeping a nameless number)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.privacy import person_erase, person_export
from warmstation.housing import services
from warmstation.housing.models import Booking, FlatNight, Resource, Survey
from warmstation.housing.tests.factories import FAMILY, make_flat
from warmstation.union import services as union
from warmstation.union.models import Member

pytestmark = pytest.mark.django_db


def test_copy_and_erasure(tree):
    worker = make_worker([tree["ylj"]])
    flat = make_flat(tree["gc"])
    day = timezone.localdate() + timedelta(days=2)
    services.booking_create(worker=worker, flat=flat, check_in=day,
                            check_out=day + timedelta(days=2), visitors=FAMILY)
    services.survey_save(worker=worker, area=tree["ylj"], housing="own", rent=None,
                         commute_minutes=5, household=2, needs={"need_family"})
    resource = services.resource_save(actor=None, resource=Resource(), kind="dormitory",
                                      name="宿舍", area=tree["ylj"], address="拱辰")
    services.rental_apply(worker=worker, resource=resource, note="想住近一点")
    union.batch_enrol(actor=None, title="入会", held_on=day, area=tree["ylj"],
                      rows=[union.BatchRow(1, worker.real_name, worker.mobile)],
                      consent_confirmed=True)
    copy = person_export(worker)
    assert copy["flat_bookings"][0]["visitors"][0]["name"] == "王芳"
    assert copy["housing_survey"][0]["household"] == 2
    assert copy["rental_applications"][0]["note"] == "想住近一点"
    assert copy["union_membership"][0]["number"].startswith("FSGH")
    person_erase(worker)
    assert FlatNight.objects.count() == 0 and Booking.objects.get().status == "cancelled"
    assert not Survey.objects.exists()
    member = Member.objects.get()
    assert member.number and member.mobile is None and member.real_name == ""
