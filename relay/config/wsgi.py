import os

import django

from relay.core.handlers import RelayApplication

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
django.setup(set_prefix=False)
application = RelayApplication()
