"""The proxy's settings and how the health gate reaches it (roles/library/vars/main.yml names
the results):

- library_check_base_url: this host's own proxy on loopback, over HTTPS when the site has a
  domain (never the domain through DNS, which may answer with another host).
- library_tls_directive: the site's tls directive in the Caddyfile: the operator's shared
  certificate, or ACME's account address when one is given, or none (Caddy's ACME without one).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

SHARED_CERTIFICATE = "tls /etc/caddy/tls/certificate.pem /etc/caddy/tls/key.pem"


def library_check_base_url(https: object, https_port: object, http_port: object) -> str:
    if boolean(https, strict=False):
        return f"https://127.0.0.1:{https_port}"
    return f"http://127.0.0.1:{http_port}"


def library_tls_directive(tls_shared: object, https: object, acme_email: str) -> str:
    if boolean(tls_shared, strict=False):
        return SHARED_CERTIFICATE
    if boolean(https, strict=False) and acme_email:
        return f"tls {acme_email}"
    return ""


class FilterModule:
    def filters(self):
        return {"library_check_base_url": library_check_base_url, "library_tls_directive": library_tls_directive}
