#!/usr/bin/env python
"""Prints an API token, the cookies of a signed-in browser (session and CSRF) and the party count for
bench/http.sh (user 'bench'), and writes
var/bench-pages.txt: 2,000 list-page paths deep in the list (cursors at random parties) for list_deep.lua."""

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.middleware.csrf import _get_new_csrf_string  # noqa: E402

from relay.accounts.models import User  # noqa: E402
from relay.accounts.services import api_token_create  # noqa: E402
from relay.accounts.sessions import SessionStore  # noqa: E402
from relay.core.pagination import _encode  # noqa: E402
from relay.customers.models import Party  # noqa: E402

user, _ = User.objects.get_or_create(username="bench", defaults={"role": "agent", "first_name": "Bench"})
_, token = api_token_create(user=user, name="http-bench")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "relay.accounts.backends.PasswordBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
last = Party.objects.order_by("-id").values_list("id", flat=True).first() or 1
rng = random.Random(11)
picks = Party.objects.filter(pk__in=[rng.randint(1, last) for _ in range(2000)]).values_list("name_key", "id")
pages = [f"/parties/?cursor={_encode(key, pk)}" for key, pk in picks]
Path(settings.VAR_DIR, "bench-pages.txt").write_text("\n".join(pages) + "\n")
# a browser sends back the CSRF cookie of its first page (without it, every page would mint a new one);
# no space after the ";": http.sh splits this line on spaces
csrf = _get_new_csrf_string()
cookies = f"{settings.SESSION_COOKIE_NAME}={session.session_key};{settings.CSRF_COOKIE_NAME}={csrf}"
print(token, cookies, last)
