"""The phone system's webhooks: Twilio's voice and status callbacks, a generic signed JSON call hook
and a signed fax hook. CSRF-exempt (machines authenticate by signature, relay/channels/telephony/
signing.py); every refusal is problem+json: 403 for a forged or missing signature, 400 for a body
that cannot be read, 413/415 for a fax that is too large or not a document. Retries change nothing:
calls and faxes are unique by the provider's id.
"""

from __future__ import annotations

import json
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from relay.channels.actors import channel_actor
from relay.channels.telephony import services
from relay.channels.telephony.models import CallDirection, CallState, Provider
from relay.channels.telephony.signing import HmacVerifier, SignatureError, verify_hmac, verify_twilio
from relay.core.exceptions import ApplicationError

log = logging.getLogger(__name__)
ENDED_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}
_url = URLValidator(schemes=["http", "https"])


def problem(
    status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _refused(error: SignatureError) -> JsonResponse:
    return problem(403, "Signature refused", str(error))


def _invalid(detail: str, field: str = "") -> JsonResponse:
    return problem(400, "Invalid webhook", detail, {field: [detail]} if field else None)


def _from_error(error: ApplicationError) -> JsonResponse:
    return problem(
        error.status, "Invalid webhook" if error.status == 400 else error.title, error.message, error.errors
    )


def _recording(value: Any) -> str:
    text = str(value or "").strip()
    if text:
        try:
            _url(text)
        except ValidationError as exc:
            raise ValueError("recording_url") from exc
    return text


def _duration(value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = int(value)
    if number < 0:
        raise ValueError
    return number


# --- generic JSON call hook ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def call_hook(request: HttpRequest) -> HttpResponse:
    """`{"event": "ringing", "call_id", "from", "to", "agent"?, "direction"?}` or
    `{"event": "ended", "call_id", "duration", "disposition", "recording_url"}`."""
    try:
        body = request.body
    except RequestDataTooBig:
        return problem(413, "Request too large", "A call event is a small JSON document.")
    try:
        verify_hmac(request, body)
    except SignatureError as error:
        return _refused(error)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _invalid("The body is not JSON.")
    if not isinstance(data, dict):
        return _invalid("The body is a JSON object.")
    event = data.get("event")
    call_id = data.get("call_id")
    if not isinstance(call_id, str) or not call_id.strip():
        return _invalid("call_id is required (a string).", "call_id")
    strings = ("from", "to", "agent", "direction", "disposition", "recording_url")
    if any(k in data and not isinstance(data[k], str | type(None)) for k in strings):
        return _invalid("from, to, agent, direction, disposition and recording_url are strings.")
    direction = data.get("direction") or CallDirection.INBOUND
    actor = channel_actor(services.PHONE_ACCOUNT)
    try:
        if event == "ringing":
            result = services.call_ring(
                actor=actor,
                provider=Provider.GENERIC,
                call_id=call_id,
                from_number=data.get("from") or "",
                to_number=data.get("to") or "",
                direction=direction,
                agent_username=data.get("agent") or "",
            )
            call, created = result.call, result.created
        elif event == "ended":
            try:
                duration = _duration(data.get("duration"))
                recording = _recording(data.get("recording_url"))
            except (TypeError, ValueError) as exc:
                field = "recording_url" if str(exc) == "recording_url" else "duration"
                return _invalid("duration is a whole number of seconds; recording_url an http(s) URL.", field)
            before = services.Call.objects.filter(provider=Provider.GENERIC, call_id=call_id.strip()).first()
            call = services.call_end(
                actor=actor,
                provider=Provider.GENERIC,
                call_id=call_id.strip(),
                duration_seconds=duration,
                disposition=data.get("disposition") or "completed",
                recording_url=recording,
                from_number=data.get("from") or "",
                to_number=data.get("to") or "",
                direction=direction,
            )
            created = before is None or before.state != CallState.ENDED
        else:
            return _invalid("event is 'ringing' or 'ended'.", "event")
    except ApplicationError as error:
        return _from_error(error)
    return JsonResponse(
        {"call": call.pk, "state": call.state, "changed": created, "logged": call.interaction_id is not None},
        status=201 if created else 200,
    )


# --- Twilio ----------------------------------------------------------------------------------------------


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest) -> HttpResponse:
    """Twilio asks what to do with a call: record it (and pop it), greet the caller and queue them for
    the line's department. Calls Relay dials out get an empty answer (nothing to add)."""
    from twilio.twiml.voice_response import VoiceResponse

    try:
        verify_twilio(request)
    except SignatureError as error:
        return _refused(error)
    params = request.POST
    sid = params.get("CallSid", "")
    if not sid:
        return _invalid("CallSid is required.", "CallSid")
    outbound = params.get("Direction", "inbound").startswith("outbound")
    try:
        result = services.call_ring(
            actor=channel_actor(services.PHONE_ACCOUNT),
            provider=Provider.TWILIO,
            call_id=sid,
            from_number=params.get("From", ""),
            to_number=params.get("To", ""),
            direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
        )
    except ApplicationError as error:
        return _from_error(error)
    response = VoiceResponse()
    if not outbound:
        line = result.call.line
        greeting = getattr(
            settings, "RELAY_PHONE_GREETING", "Thank you for calling. Please hold for an agent."
        )
        response.say(greeting)
        response.enqueue(f"relay-line-{line.pk}" if line else "relay")
    return _twiml(str(response))


def _twilio_recording(params: Any, sid: str) -> HttpResponse:
    if params.get("RecordingStatus") != "completed":
        return HttpResponse(status=204)  # in-progress, absent or failed: nothing to keep yet
    try:
        recording = _recording(params.get("RecordingUrl"))
    except ValueError:
        return _invalid("RecordingUrl is an http(s) URL.")
    try:
        services.call_add_recording(
            actor=channel_actor(services.PHONE_ACCOUNT),
            provider=Provider.TWILIO,
            call_id=sid,
            recording_url=recording,
        )
    except ApplicationError as error:
        return _from_error(error)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback: answered, and at the end completed/busy/no-answer/failed/canceled with
    CallDuration and RecordingUrl (the call is then logged)."""
    try:
        verify_twilio(request)
    except SignatureError as error:
        return _refused(error)
    params = request.POST
    sid, status = params.get("CallSid", ""), params.get("CallStatus", "")
    if sid and not status and params.get("RecordingStatus"):  # the recording status callback
        return _twilio_recording(params, sid)
    if not sid or not status:
        return _invalid("CallSid and CallStatus are required.")
    outbound = params.get("Direction", "inbound").startswith("outbound")
    actor = channel_actor(services.PHONE_ACCOUNT)
    try:
        if status in ENDED_STATUSES:
            try:
                duration = _duration(params.get("CallDuration"))
                recording = _recording(params.get("RecordingUrl"))
            except (TypeError, ValueError):
                return _invalid("CallDuration is whole seconds; RecordingUrl an http(s) URL.")
            services.call_end(
                actor=actor,
                provider=Provider.TWILIO,
                call_id=sid,
                duration_seconds=duration,
                disposition=status,
                recording_url=recording,
                from_number=params.get("From", ""),
                to_number=params.get("To", ""),
                direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
            )
        elif status == "in-progress":
            services.call_answer(actor=actor, provider=Provider.TWILIO, call_id=sid)
        elif status in ("ringing", "queued", "initiated"):
            services.call_ring(
                actor=actor,
                provider=Provider.TWILIO,
                call_id=sid,
                from_number=params.get("From", ""),
                to_number=params.get("To", ""),
                direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
            )
    except ApplicationError as error:
        return _from_error(error)
    return HttpResponse(status=204)


# --- fax -------------------------------------------------------------------------------------------------


class _BadFileName(Exception):
    pass


class _FaxParser(MultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        if "/" in file_name or "\\" in file_name or ".." in file_name or "\x00" in file_name:
            raise _BadFileName(file_name)
        return super().sanitize_file_name(file_name)


def fax_max_bytes() -> int:
    return int(getattr(settings, "RELAY_FAX_MAX_BYTES", settings.RELAY_ATTACHMENT_MAX_BYTES + 1024 * 1024))


@csrf_exempt
@require_POST
def fax_hook(request: HttpRequest) -> HttpResponse:
    """multipart/form-data: `fax_id`, `from`, `to`, `pages`?, and the document as `file` (PDF or TIFF),
    signed like the call hook over the raw body. The body is read in chunks (HMAC on the way) into a
    spooled file, so a fax larger than Django's in-memory limit is fine up to RELAY_FAX_MAX_BYTES."""
    try:
        verifier = HmacVerifier(request)
    except SignatureError as error:
        return _refused(error)
    limit = fax_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _invalid("Content-Length is not a number.")
    if declared > limit:
        return problem(413, "Fax too large", f"A fax may be at most {limit // (1024 * 1024)} MB.")
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        total = 0
        while chunk := request.read(64 * 1024):
            total += len(chunk)
            if total > limit:
                return problem(413, "Fax too large", f"A fax may be at most {limit // (1024 * 1024)} MB.")
            verifier.update(chunk)
            spool.write(chunk)
        try:
            verifier.verify()
        except SignatureError as error:
            return _refused(error)
        if request.content_type != "multipart/form-data":
            return _invalid("A fax is posted as multipart/form-data.")
        spool.seek(0)
        meta = {**request.META, "CONTENT_LENGTH": str(total)}
        try:
            post, files = _FaxParser(meta, spool, request.upload_handlers, request.encoding).parse()  # type: ignore[arg-type]
        except _BadFileName:
            return _invalid("The file name may not contain a path.", "file")
        except (MultiPartParserError, ValueError):
            return _invalid("The multipart body could not be read.")
        upload = files.get("file")
        if upload is None:
            return _invalid("The document is required (field 'file').", "file")
        pages_raw = post.get("pages") or ""
        if pages_raw and not (pages_raw.isdigit() and int(pages_raw) < 10_000):
            return _invalid("pages is a whole number.", "pages")
        try:
            result = services.fax_receive(
                actor=channel_actor(services.FAX_ACCOUNT),
                provider=Provider.GENERIC,
                fax_id=post.get("fax_id", ""),
                from_number=post.get("from", ""),
                to_number=post.get("to", ""),
                upload=upload,
                pages=int(pages_raw) if pages_raw else None,
            )
        except ApplicationError as error:
            return _from_error(error)
    fax = result.fax
    return JsonResponse(
        {"fax": fax.pk, "party": fax.party_id, "case": fax.case_id, "interaction": fax.interaction_id},
        status=201 if result.created else 200,
    )
