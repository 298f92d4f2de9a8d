"""DRF's browsable API under the site's Content-Security-Policy (settings).

Its templates put layout in style attributes (style="float: right", ...), which the site
policy blocks: on its pages alone, style attributes are allowed. They cannot run script, and
the policy still keeps their url()s to this origin. Its one <style> element (the code
highlighting) carries the nonce instead (templates/rest_framework/api.html).

Its HTML forms post as application/x-www-form-urlencoded, not as DRF's templates say
(multipart/form-data, which the app refuses everywhere: core.request_body); DRF's form script
sends a urlencoded form as such.
"""

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers

MULTIPART_FORM = 'enctype="multipart/form-data"'
URLENCODED_FORM = 'enctype="application/x-www-form-urlencoded"'


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # django-csp's middleware reads this (as its @csp_update decorator sets it).
            response._csp_update = {"style-src-attr": [UNSAFE_INLINE]}
        page = super().render(data, accepted_media_type, renderer_context)
        # Attributes of DRF's own form tags: a response shown in the page is escaped
        # (&quot;), so it never matches.
        return page.replace(MULTIPART_FORM, URLENCODED_FORM)
