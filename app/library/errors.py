"""Site-wide 400/403/404/500 handlers: JSON under /api/, the library's pages elsewhere."""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE
            return JsonResponse(
                {"detail": "The request body is too large.", "code": "request_too_large"},
                status=413,
            )
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return JsonResponse(
            {"detail": "Permission denied.", "code": "permission_denied"}, status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return JsonResponse(
            {"detail": "Internal server error.", "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
