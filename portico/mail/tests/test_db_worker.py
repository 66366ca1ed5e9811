"""``manage.py db_worker``: an idle worker starts a new task at once, not a
polling interval later, and loads the URLconf before its first task."""

import time

import pytest
from django.urls import get_resolver

from portico.mail.management.commands.db_worker import WakingWorker, warm_up
from portico.mail.tasks import deliver_outbox


def idle_worker(*, interval: float) -> WakingWorker:
    return WakingWorker(
        queue_names=["default"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )


@pytest.mark.django_db
def test_an_idle_worker_wakes_as_soon_as_a_task_is_ready():
    # Given a worker polling every 10 s, and a task ready
    worker = idle_worker(interval=10)
    deliver_outbox.enqueue()

    # When it waits for work
    started = time.monotonic()
    worker._wait_for_task()

    # Then it stops waiting at its next look, a fraction of a second later
    assert time.monotonic() - started < 1


@pytest.mark.django_db
def test_an_idle_worker_without_tasks_waits_its_interval():
    worker = idle_worker(interval=0.2)

    started = time.monotonic()
    worker._wait_for_task()

    assert 0.2 <= time.monotonic() - started < 1


def test_the_warm_up_loads_the_urlconf():
    warm_up()

    assert get_resolver()._populated
