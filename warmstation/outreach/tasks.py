from django.tasks import task

from warmstation.outreach.services import notice_publish, outbox_deliver, outbox_deliver_batch


@task()
def deliver_outbox_message(message_id: int) -> str:
    message = outbox_deliver(message_id=message_id)
    return message.status if message else "missing"


@task()
def deliver_outbox_batch(message_ids: list[int]) -> int:
    """A notice's fan-out: many messages, one task."""
    return outbox_deliver_batch(message_ids=message_ids)


@task()
def publish_notice(notice_id: int) -> bool:
    """A scheduled notice, at its time (the periodic job catches any whose task was lost)."""
    return notice_publish(notice_id=notice_id)
