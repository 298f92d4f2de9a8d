"""Request bodies, refused before anything reads them: one larger than
LIBRARY_MAX_BODY_BYTES (413), and any multipart body (415).

Django spools a multipart file larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file
(the container's tmpfs: its memory) and DATA_UPLOAD_MAX_MEMORY_SIZE does not count files, so
the sign-in endpoints, which read the bodies of anonymous clients, wrote whatever size they
were sent. The app takes no uploads: the API reads JSON (and the browsable API's forms), the
admin and the sign-in forms are urlencoded. So multipart is refused on every path, and
nothing is read of a body over the limit:
- with a Content-Length, the header alone decides;
- a chunked body (no Content-Length; gunicorn passes it on) is read into memory up to one
  byte beyond the limit, refused if that byte came, else handed on as a body of that length
  (Django would otherwise see no body at all).

This middleware sits near the top of settings.MIDDLEWARE, ahead of CSRF and sessions (which
read forms) and every view. The settings keep Django's own limits on the same number and
install no upload handler that writes to disk (settings.FILE_UPLOAD_HANDLERS).
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse

CHUNK = 64 * 1024


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": f"The request body is larger than {limit} bytes.", "code": "body_too_large"},
        status=413,
    )


def unsupported(media_type: str) -> JsonResponse:
    return JsonResponse(
        {"detail": f'Unsupported media type "{media_type}" in request: this service takes no '
                   "uploads (send JSON, or a form as application/x-www-form-urlencoded).",
         "code": "unsupported_media_type"},
        status=415,
    )


def declared_length(request) -> int | None:
    """The Content-Length, or None when there is none (or none Django would read)."""
    raw = request.META.get("CONTENT_LENGTH", "").strip()
    return int(raw) if raw.isdigit() else None


def is_chunked(request) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def read_at_most(stream, size: int) -> bytes:
    """Up to `size` bytes of the stream, in memory."""
    parts, left = [], size
    while left > 0:
        part = stream.read(min(CHUNK, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class RequestBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.LIBRARY_MAX_BODY_BYTES
        length = declared_length(request)
        if length is not None and length > limit:
            return too_large(limit)
        if length is None and is_chunked(request):
            body = read_at_most(request.META["wsgi.input"], limit + 1)
            if len(body) > limit:
                return too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        media_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if media_type.startswith("multipart/"):
            return unsupported(media_type[:100])
        return self.get_response(request)
