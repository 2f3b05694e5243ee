"""A django.tasks backend that hands tasks to Huey. Business code only ever calls `task.enqueue()`."""

from __future__ import annotations

from typing import Any

from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import Task, TaskResult, TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string
from huey.utils import normalize_time


class HueyTaskBackend(BaseTaskBackend):
    supports_defer = True

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from relay.config.huey import run_django_task

        self.validate_task(task)
        path = f"{task.func.__module__}.{task.func.__qualname__}"
        result_id = get_random_string(32)
        call = run_django_task.s(path, list(args), dict(kwargs))
        call.id = result_id
        if task.run_after is not None:
            # Huey compares etas with its own clock: naive UTC (an aware datetime would raise there)
            call.eta = normalize_time(task.run_after, utc=run_django_task.huey.utc)
        run_django_task.huey.enqueue(call)
        return TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
