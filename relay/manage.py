"""The `relay` console script: Django's management commands and Relay's own."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relay.config.settings")
    from django.core.management import execute_from_command_line

    from relay.core.origin import Origin, set_origin

    # Changes made by a command are audited as such; requests (middleware) and jobs set their own origin.
    set_origin(Origin.COMMAND)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
