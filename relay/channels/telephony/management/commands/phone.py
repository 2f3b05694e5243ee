"""`relay phone ring|end|fax`: post a signed phone-system webhook to a running Relay (demo and testing).

    relay phone ring --from "+1 415 555 0100"                  # pops John Carter's card to Customer Care
    relay phone ring --from "+1 415 555 0100" --agent care.agent
    relay phone end --call-id <id printed by ring> --duration 95 --recording-url https://pbx.example/r/1
    relay phone fax --from "+1 415 555 0100" --file scan.pdf

It signs the body with RELAY_PHONE_WEBHOOK_SECRET exactly as a phone system must (signing.py) and
prints the answer. Only for http(s) URLs given with --url (default RELAY_BASE_URL).
"""

from __future__ import annotations

import json
import mimetypes
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from relay.channels.push.testing import post_json
from relay.channels.telephony.demo import DEMO_FAX_LINE, DEMO_LINE
from relay.channels.telephony.signing import sign


class Command(BaseCommand):
    help = "Post a signed call or fax webhook to Relay (ring, end, fax)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["ring", "end", "fax"])
        parser.add_argument("--url", default=settings.RELAY_BASE_URL, help="Relay's base URL")
        parser.add_argument("--from", dest="from_number", default="+1 415 555 0100")
        parser.add_argument("--to", default="", help=f"the dialled line (default {DEMO_LINE})")
        parser.add_argument("--call-id", default="", help="the provider's call id (default: a new one)")
        parser.add_argument("--agent", default="", help="the username of the agent to pop (optional)")
        parser.add_argument("--duration", type=int, default=60)
        parser.add_argument("--disposition", default="completed")
        parser.add_argument("--recording-url", default="")
        parser.add_argument("--file", default="", help="the fax document (PDF or TIFF)")

    def handle(self, *args: Any, action: str, url: str, **o: Any) -> None:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be an http(s) URL")
        base = url.rstrip("/")
        if action == "fax":
            status, answer = self._fax(base, o)
        else:
            payload: dict[str, Any] = {"event": "ringing" if action == "ring" else "ended"}
            payload["call_id"] = o["call_id"] or (uuid.uuid4().hex if action == "ring" else "")
            if not payload["call_id"]:
                raise CommandError("--call-id is required to end a call")
            if action == "ring":
                payload.update({"from": o["from_number"], "to": o["to"] or DEMO_LINE, "agent": o["agent"]})
            else:
                payload.update(
                    {
                        "duration": o["duration"],
                        "disposition": o["disposition"],
                        "recording_url": o["recording_url"],
                    }
                )
            body = json.dumps(payload).encode()
            status, answer = post_json(base + "/phone/hooks/call", body, sign(body))
            self.stdout.write(f"call id: {payload['call_id']}")
        self.stdout.write(f"{status} {answer.decode(errors='replace')}")
        if status >= 400:
            raise CommandError(f"Relay answered {status}")

    def _fax(self, base: str, o: dict[str, Any]) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        path = Path(o["file"])
        if not o["file"] or not path.is_file():
            raise CommandError("--file must name the fax document (PDF or TIFF)")
        boundary = uuid.uuid4().hex
        fields = {
            "fax_id": o["call_id"] or uuid.uuid4().hex,
            "from": o["from_number"],
            "to": o["to"] or DEMO_FAX_LINE,
        }
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n".encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        body = b"".join(parts)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **sign(body)}
        request = urllib.request.Request(base + "/phone/hooks/fax", data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
