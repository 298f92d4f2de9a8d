"""Mitogen's linear strategy, taken from the virtualenv's ansible_mitogen (pyproject.toml).

Mitogen keeps one Python interpreter open on each host for the whole run instead of starting one
per task, which is most of the time a deploy spends on a busy host."""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule  # noqa: F401
