from django.tasks import task

from warmstation.outreach.services import outbox_deliver


@task()
def deliver_outbox_message(message_id: int) -> str:
    message = outbox_deliver(message_id=message_id)
    return message.status if message else "missing"
