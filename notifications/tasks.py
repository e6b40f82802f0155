"""Tasks of the django.tasks worker (`manage.py db_worker`)."""

from django.tasks import task

from .delivery import deliveries_send


@task()
def deliver_notifications(*, delivery_ids: list[int]) -> dict[str, list[int]]:
    report = deliveries_send(delivery_ids=delivery_ids)
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}
