from rest_framework.authtoken.views import ObtainAuthToken

from library.api import LoginThrottle


class ObtainTokenView(ObtainAuthToken):
    """POST username and password, get the API token. Throttled (DRF's own view is not)."""

    throttle_classes = [LoginThrottle]
