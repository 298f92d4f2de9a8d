"""zizmor (tools/lint) with the repository's own configuration: the workflows pass it, and it
finds what the rules of rules.py leave to it: a tag-pinned action, the token's broad default
permissions, a checkout that keeps its credentials."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZIZMOR = Path(sys.executable).parent / "zizmor"
CONFIG = ROOT / ".github" / "zizmor.yml"

CARELESS = """\
name: careless
on: push
jobs:
  lint:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
      - run: make lint
"""


def audits(folder):
    """The audits zizmor's findings name, for the workflows in FOLDER."""
    result = subprocess.run([str(ZIZMOR), "--offline", "--config", str(CONFIG), "--format", "json", str(folder)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode in (0, 10, 11, 12, 13, 14), result.stderr
    return {finding["ident"] for finding in json.loads(result.stdout)}


def test_the_workflows_have_no_finding():
    assert audits(ROOT / ".github" / "workflows") == set()


@pytest.mark.parametrize("audit", ["unpinned-uses", "excessive-permissions", "artipacked"])
def test_zizmor_finds_what_the_rules_leave_to_it(tmp_path, audit):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "careless.yml").write_text(CARELESS, encoding="utf-8")
    assert audit in audits(workflows)
