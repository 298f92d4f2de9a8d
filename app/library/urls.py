from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catalog.api import AuthorViewSet, BookViewSet
from circulation.api import CopyViewSet, LoanViewSet
from library import auth
from library.auth import ObtainTokenView

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")
router.register("authors", AuthorViewSet, basename="author")
router.register("copies", CopyViewSet, basename="copy")
router.register("loans", LoanViewSet, basename="loan")

urlpatterns = [
    path("", include("catalog.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    *auth.urlpatterns,  # the browsable API's and the admin's sign-in forms, throttled
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from ?script, not inline: the CSP runs no inline
    # script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "library.errors.bad_request"
handler403 = "library.errors.permission_denied"
handler404 = "library.errors.page_not_found"
handler500 = "library.errors.server_error"
