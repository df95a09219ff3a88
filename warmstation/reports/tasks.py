from django.tasks import task

from warmstation.core.liveness import BULK_QUEUE
from warmstation.reports.services import photo_process


@task(queue_name=BULK_QUEUE)
def process_photo(photo_id: int) -> str:
    """A photo uploaded ahead, re-encoded after the worker's request has answered."""
    photo = photo_process(photo_id)
    return photo.state if photo else "missing"
