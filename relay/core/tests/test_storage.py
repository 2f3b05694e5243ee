from django.contrib.staticfiles.storage import staticfiles_storage
from whitenoise.storage import CompressedStaticFilesStorage

from relay.core.storage import StaticFilesStorage


def test_static_urls_are_whitenoises_and_follow_a_changed_static_url(settings):
    name = "relay/app.css"
    storage = StaticFilesStorage()
    assert storage.url(name) == storage.url(name) == CompressedStaticFilesStorage().url(name)
    assert staticfiles_storage.url(name) == f"{settings.STATIC_URL}{name}"
    settings.STATIC_URL = "/assets/"  # a new storage, with URLs of its own
    assert staticfiles_storage.url(name) == "/assets/relay/app.css"
