"""Address filters of role base, on Python's ipaddress (the controller needs no netaddr)."""

import ipaddress


def _network(value):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return None


def networks_of_version(values, version):
    """The items of `values` of IP version 4 or 6, as normalised networks (10.0.0.1/32)."""
    networks = (_network(v) for v in values)
    return [str(n) for n in networks if n is not None and n.version == int(version)]


def address_in(address, values):
    """True when `address` lies in one of the networks `values`."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return False
    networks = (_network(v) for v in values)
    return any(n is not None and n.version == ip.version and ip in n for n in networks)


class FilterModule:
    def filters(self):
        return {
            "base_networks_of_version": networks_of_version,
            "base_address_in": address_in,
        }
