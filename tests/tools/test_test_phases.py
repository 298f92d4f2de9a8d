"""tools/test-phases (`make test`): every phase runs even after one fails, and a table of their
times and results ends the output; the exit status says whether all passed. Tried on a small
Makefile of its own."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_phase_runs_and_the_table_names_the_one_that_failed(tmp_path):
    (tmp_path / "Makefile").write_text("first:\n\t@echo one\nbroken:\n\t@false\nlast:\n\t@echo three\n", encoding="utf-8")
    result = subprocess.run([str(ROOT / "tools" / "test-phases"), "first", "broken", "last"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False,
                            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"})
    assert result.returncode == 1
    assert "one" in result.stdout and "three" in result.stdout  # the phase after the failure ran
    table = result.stdout.split("make test, by phase:\n")[1].splitlines()
    assert table[0].split() == ["phase", "seconds", "result"]
    assert [line.split()[0::2] for line in table[1:4]] == [["first", "ok"], ["broken", "FAILED"], ["last", "ok"]]
    assert table[4].split()[0] == "total"
