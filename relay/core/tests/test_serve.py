"""`relay serve` starts gunicorn with the options asked for (its processes are not started here)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command


class _Finished:
    """A stand-in for a started process that has already ended."""

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


def _gunicorn_argv(monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None) -> list:
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    started: list[list[str]] = []

    def popen(argv: list[str], *a: Any, **kw: Any) -> _Finished:
        started.append(argv)
        return _Finished()

    with (
        mock.patch("relay.core.management.commands.serve.subprocess.Popen", popen),
        mock.patch("relay.core.management.commands.serve.call_command"),
        mock.patch("relay.core.management.commands.serve.signal.signal"),
    ):
        call_command("serve", "--no-worker", "--no-smtpd", *args)
    (argv,) = [a for a in started if "gunicorn" in a]
    return argv


def test_gunicorn_logs_each_request_by_default(monkeypatch):
    monkeypatch.delenv("RELAY_ACCESS_LOG", raising=False)
    argv = _gunicorn_argv(monkeypatch)
    assert argv[argv.index("--access-logfile") + 1] == "-"
    assert "uvicorn_worker.UvicornWorker" in argv


@pytest.mark.parametrize(("args", "env"), [(("--no-access-log",), {}), ((), {"RELAY_ACCESS_LOG": "0"})])
def test_the_access_log_can_be_left_to_the_reverse_proxy(monkeypatch, args, env):
    assert "--access-logfile" not in _gunicorn_argv(monkeypatch, *args, env=env)


def test_wsgi_workers_on_request(monkeypatch):
    argv = _gunicorn_argv(monkeypatch, "--wsgi", "--workers", "3")
    assert "relay.config.wsgi" in argv and argv[argv.index("--workers") + 1] == "3"


def test_one_worker_process_per_core_unless_told(monkeypatch):
    monkeypatch.delenv("RELAY_WEB_WORKERS", raising=False)
    monkeypatch.setattr("relay.core.management.commands.serve.os.cpu_count", lambda: 6)
    argv = _gunicorn_argv(monkeypatch)
    assert argv[argv.index("--workers") + 1] == "6"
    argv = _gunicorn_argv(monkeypatch, env={"RELAY_WEB_WORKERS": "3"})
    assert argv[argv.index("--workers") + 1] == "3"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--workers", "0"), {}),
        (("--workers", "two"), {}),
        ((), {"RELAY_WEB_WORKERS": "-1"}),
        ((), {"RELAY_WEB_WORKERS": "x"}),
    ],
)
def test_a_process_count_below_one_or_not_a_number_is_refused_and_nothing_starts(monkeypatch, args, env):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not a number of processes"):
        _gunicorn_argv(monkeypatch, *args, env=env)
