"""Signing in: the API's token endpoint, and Django's sign-in forms (the browsable API's and
the admin's), all throttled by one password-guess budget per client."""

import functools

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core import auth
from core.errors import is_api
from core.throttling import LoginThrottle, SignInUnavailable


class ObtainTokenView(ObtainAuthToken):
    """POST username and password, get the API token. Throttled (DRF's own view is not).
    A token expires LIBRARY_TOKEN_TTL days after it is issued; signing in again then issues
    a new one (DRF's view would hand the expired one back)."""

    throttle_classes = [LoginThrottle]
    # DRF's view pins its own parsers, bypassing ours (api.parsers).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"token": auth.issue(serializer.validated_data["user"]).key})


def throttle_password_posts(view):
    """The token endpoint's limit on password guesses, for Django's sign-in forms too (the
    browsable API's and the admin's): unthrottled, they were the way around it. One budget
    per client address across all three. While the cache cannot count an attempt, attempts
    are refused (503), as the token endpoint refuses them (LoginThrottle)."""

    @functools.wraps(view)
    def throttled(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        throttle = LoginThrottle()
        try:
            if throttle.allow_request(request, None):
                return view(request, *args, **kwargs)
        except SignInUnavailable as unavailable:
            return refusal(request, unavailable.detail, unavailable.default_code, 503,
                           unavailable.wait)
        return refusal(request, "Too many sign-in attempts. Try again later.", "throttled", 429,
                       throttle.wait())

    return throttled


def refusal(request, detail: str, code: str, status: int, wait: float | None) -> HttpResponse:
    if is_api(request):
        response = JsonResponse({"detail": str(detail), "code": code}, status=status)
    else:
        response = HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(max(1, round(wait or 1)))
    return response


# rest_framework.urls (the browsable API's sign-in and sign-out), with the sign-in throttled.
browsable_api_auth_urls = [
    path(
        "login/",
        throttle_password_posts(
            auth_views.LoginView.as_view(template_name="library/login.html")
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("api/auth/", include((browsable_api_auth_urls, "rest_framework"))),
    # Ahead of admin.site.urls, so it answers /admin/login/; reverse("admin:login") is unchanged.
    path("admin/login/", throttle_password_posts(admin.site.login)),
]
