"""Every URL of the service: the website, the API, its schema and docs, sign-in, the admin.
(/healthz, /readyz and /version answer ahead of URL routing: core.health.)"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catalog.api import AuthorViewSet
from circulation.api import BookViewSet, CopyViewSet, LoanViewSet
from core import signin

router = DefaultRouter()
# The catalogue's books, with circulation's copy counts.
router.register("books", BookViewSet, basename="book")
router.register("authors", AuthorViewSet, basename="author")
router.register("copies", CopyViewSet, basename="copy")
router.register("loans", LoanViewSet, basename="loan")

urlpatterns = [
    path("", include("website.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", signin.ObtainTokenView.as_view(), name="api-token"),
    *signin.urlpatterns,  # the browsable API's and the admin's sign-in forms, throttled
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from ?script, not inline: the CSP runs no inline
    # script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
