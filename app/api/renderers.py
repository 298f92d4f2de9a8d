"""DRF's browsable API under the site's Content-Security-Policy (settings).

Its templates put layout in style attributes (style="float: right", ...), which the site
policy blocks: on its pages alone, style attributes are allowed. They cannot run script, and
the policy still keeps their url()s to this origin. Its one <style> element (the code
highlighting) carries the nonce instead (templates/rest_framework/api.html).
"""

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # django-csp's middleware reads this (as its @csp_update decorator sets it).
            response._csp_update = {"style-src-attr": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
