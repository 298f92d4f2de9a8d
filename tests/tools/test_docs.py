"""The documentation: README.md stays short, and README.md and docs/*.md name only make targets
that exist and link only to files (and headings) that exist. Plain reading, no network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 150

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# `make TARGET` at the start of a command: line start, or after a pipe, `;`, `&&`, `(`, `$(`.
MAKE = re.compile(r"(?:^|[\s|;&(])make[ \t]+([a-z][a-z-]*)\b(?!=)", re.MULTILINE)
RULE = re.compile(r"^([a-z][a-z-]*):(?!=)", re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _code(text: str) -> list[str]:
    """The fenced code blocks and the code spans (tables' cells included) of a markdown text."""
    blocks = [m.group(0) for m in FENCE.finditer(text)]
    prose = FENCE.sub("", text)
    return blocks + [m.group(2) for m in CODE_SPAN.finditer(prose)]


def _prose(text: str) -> str:
    """The text without code blocks and code spans (a link inside code is no link)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation gone, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").lower().strip()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for m in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def makefile_targets() -> set[str]:
    return set(RULE.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def make_targets_named(text: str) -> set[str]:
    return {target for code in _code(text) for target in MAKE.findall(code)}


def relative_links(text: str) -> list[str]:
    return [t for t in LINK.findall(_prose(text))
            if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail into docs/")


def test_docs_exist():
    assert len(DOCS) > 1, "docs/*.md: none found"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_make_targets_exist(doc):
    known = makefile_targets()
    named = make_targets_named(doc.read_text(encoding="utf-8"))
    assert named, f"{doc.relative_to(ROOT)} names no make target"
    missing = sorted(named - known)
    assert not missing, f"{doc.relative_to(ROOT)} names make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_exist(doc):
    broken = []
    for link in relative_links(doc.read_text(encoding="utf-8")):
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_checks_see_what_they_look_for():
    """The readers themselves, on a small text: code spans, code blocks and tables count,
    prose does not; links inside code are not links."""
    text = (
        "Run `make run` or:\n\n```sh\nmake lab ENGINE=swarm\necho x | make exec ENV=a\n```\n\n"
        "| target | make it with |\n|---|---|\n| `make status ENV=x` | y |\n\n"
        "Prose: make sure, [a](docs/a.md#b), [b](https://example.com), `[c](nowhere.md)`.\n"
    )
    assert make_targets_named(text) == {"run", "lab", "exec", "status"}
    assert relative_links(text) == ["docs/a.md#b"]
    assert _slug("Status: `make status`") == "status-make-status"
    assert _slug("Releases: start-first, locked, one host at a time") == (
        "releases-start-first-locked-one-host-at-a-time")
    assert {"deploy", "plan", "help"} <= makefile_targets()


def test_the_readmes_releases_table_gives_each_timeouts_default():
    """The two timeouts every wait of a release derives from, as the role's defaults set them."""
    defaults = (ROOT / "ansible" / "roles" / "library" / "defaults" / "main.yml").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for name in ("library_ready_timeout", "library_health_seconds"):
        default = re.search(rf"^{name}: (\d+)$", defaults, re.MULTILINE)
        assert default, f"{name} has no default in the role"
        assert re.search(rf"^\| `{name}` \| {default.group(1)} s \|", readme, re.MULTILINE), \
            f"README.md's releases table lacks {name} with its default {default.group(1)} s"
