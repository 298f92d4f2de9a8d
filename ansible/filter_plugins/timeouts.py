"""The waits derived from the two timeouts an inventory sets (library_ready_timeout and
library_health_seconds; roles/library/vars/main.yml names the results):

- library_polls: how many polls, one every `every` seconds, fit in a wait (its upper bound: a
  wait ends at its deadline, however long each poll took).
- library_swarm_update_seconds: web's whole rolling update under Swarm: one ready timeout, and
  one start period and monitor window per replica (they are replaced one at a time).
"""

from __future__ import annotations

# Jinja's own int and float filters, which the role's settings went through: a value that is
# not a number counts as 0, as it did there.
from jinja2.filters import do_float, do_int


def library_polls(seconds: object, every: object) -> int:
    return do_int(do_float(seconds) / do_float(every))


def library_swarm_update_seconds(ready_timeout: object, *, replicas: object, start_period: object,
                                 monitor: object) -> int:
    return do_int(ready_timeout) + do_int(replicas) * (do_int(start_period) + do_int(monitor))


class FilterModule:
    def filters(self):
        return {"library_polls": library_polls, "library_swarm_update_seconds": library_swarm_update_seconds}
