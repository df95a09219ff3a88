from django.tasks import task

from warmstation.areas.models import Area
from warmstation.core.liveness import BULK_QUEUE
from warmstation.documents.services import handbook_generate


@task(queue_name=BULK_QUEUE)
def regenerate_handbook(street_id: int) -> int:
    street = Area.objects.filter(pk=street_id).first()
    return handbook_generate(street=street).pages if street else 0
