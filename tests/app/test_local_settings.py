"""The test suite and the benchmark run on one settings module (library.settings_test), so a
benchmark figure and a test result describe the same app."""

import configparser
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_suite_runs_on_the_shared_settings_module():
    ini = configparser.ConfigParser()
    ini.read(ROOT / "tests/app/pytest.ini")
    assert ini["pytest"]["DJANGO_SETTINGS_MODULE"] == "library.settings_test"
    assert settings.SETTINGS_MODULE == "library.settings_test"


def test_the_benchmark_runs_on_the_same_module_and_sets_nothing_of_its_own():
    script = (ROOT / "app/bench").read_text()
    exported = re.findall(r"^export DJANGO_SETTINGS_MODULE=(\S+)$", script, re.M)
    assert exported == ["library.settings_test"]
    # Its own DJANGO_* values or override_settings would make it a second source of settings.
    assert re.findall(r"\bDJANGO_(?!SETTINGS_MODULE)\w+=", script) == []
    bench = (ROOT / "app/bench.py").read_text()
    assert 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings_test")' in bench
    assert "override_settings" not in bench and "settings." not in bench
