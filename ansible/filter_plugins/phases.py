"""How long a release's phases took on a host (roles/library/tasks/main.yml prints them):

- library_phase_seconds: the phase times (library_phase_times: {phase: when it ended, as a
  timestamp}, begin first) as the seconds each phase took, and the total until now, one
  decimal each.
- library_phase_words: those as words of the printed line, "phase=1.5s " each.
"""

from __future__ import annotations

# Jinja's float filter, which the times went through: a value that is no number counts as 0.
from jinja2.filters import do_float


def library_phase_seconds(phase_times: dict, now: object) -> dict[str, str]:
    marks = list(phase_times.items())
    seconds = {name: f"{do_float(when) - do_float(marks[i][1]):.1f}" for i, (name, when) in enumerate(marks[1:])}
    seconds["total"] = f"{do_float(now) - do_float(phase_times['begin']):.1f}"
    return seconds


def library_phase_words(seconds: dict[str, str]) -> str:
    return "".join(f"{phase}={value}s " for phase, value in seconds.items())


class FilterModule:
    def filters(self):
        return {"library_phase_seconds": library_phase_seconds, "library_phase_words": library_phase_words}
