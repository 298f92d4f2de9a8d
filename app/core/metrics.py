"""/metrics: the Prometheus metrics of every gunicorn worker, in django-prometheus's own view.

The proxy's metrics listener forwards scrapes here; compose publishes that listener on the
host's loopback only, and the public site answers /metrics with a 404 itself. Like the health
endpoints, /metrics is answered ahead of host validation and the HTTPS redirect (the listener
forwards its own Host, 127.0.0.1:9180, over plain HTTP), outside DRF (never throttled) and
without sign-in. A request the public site forwarded carries PUBLIC_SITE_HEADER (the site
sets it, whatever the client sent): it is never answered with metrics, so they stay private
even if the site's own 404 were lost.

With gunicorn, PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py) and the view sums the files
every worker writes there, whichever worker answers.
"""

from django.http import JsonResponse
from django_prometheus.exports import ExportToDjangoView

METRICS_PATH = "/metrics"
# X-Library-Public-Site, as Django names a request header.
PUBLIC_SITE_HEADER = "HTTP_X_LIBRARY_PUBLIC_SITE"


class MetricsEndpointMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != METRICS_PATH or PUBLIC_SITE_HEADER in request.META:
            # Not a page of the site: the URLconf answers 404 (or 400 for an unknown host).
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"detail": f"Method {request.method} not allowed."}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = ExportToDjangoView(request)
        response["Cache-Control"] = "no-store"
        return response
