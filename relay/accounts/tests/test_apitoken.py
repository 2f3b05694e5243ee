import pytest
from django.core.management import CommandError, call_command

from relay.accounts.models import ApiToken
from relay.core.testing.api import client_for


@pytest.mark.django_db
def test_apitoken_prints_a_token_that_authenticates_and_stores_only_its_hash(agent, capsys):
    call_command("apitoken", "agent")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("rly_")
    token = ApiToken.objects.get(user=agent)
    assert token.digest == ApiToken.hash(raw) and raw not in (token.digest, token.prefix)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/parties/").status_code == 200


@pytest.mark.django_db
def test_apitoken_refuses_unknown_and_inactive_users(inactive_user):
    with pytest.raises(CommandError, match="No user"):
        call_command("apitoken", "nobody")
    with pytest.raises(CommandError, match="not active"):
        call_command("apitoken", "gone")


@pytest.mark.django_db
def test_apitoken_names_the_token_and_each_call_makes_a_new_one(agent, capsys):
    call_command("apitoken", "agent", "--name", "phone system")
    call_command("apitoken", "agent")
    first, second = capsys.readouterr().out.split()
    assert first != second
    assert sorted(ApiToken.objects.filter(user=agent).values_list("name", flat=True)) == [
        "default",
        "phone system",
    ]


@pytest.mark.django_db
def test_a_token_records_its_use_at_most_every_five_minutes_and_a_revoked_one_is_refused(agent):
    from datetime import timedelta

    import time_machine

    from relay.accounts.services import api_token_create, api_token_revoke
    from relay.core import clock

    token, raw = api_token_create(user=agent)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    start = clock.now()
    with time_machine.travel(start, tick=False):
        assert client.get("/api/v1/parties/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert client.get("/api/v1/parties/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start  # not written again within five minutes
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert client.get("/api/v1/parties/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=6)

    api_token_revoke(token=token)
    assert client.get("/api/v1/parties/").status_code == 401
    _, raw_other = api_token_create(user=agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_other}")
    assert client.get("/api/v1/parties/").status_code == 401
