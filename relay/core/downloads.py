"""Serving a stored file to someone already allowed to have it: always a download, never rendered."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404


def file_download(field: Any, *, filename: str, content_type: str) -> FileResponse:
    """A stored file (a FileField's value) as an attachment the browser will not sniff, render or cache;
    a file missing from storage is a 404."""
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is missing from storage.") from exc
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
