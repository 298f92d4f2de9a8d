"""The app's configuration table (app/README.md, "Configuration (environment)") against the
code: every environment variable the settings and gunicorn read is in it, it names no other,
and the default it shows is the code's. Read from the source (no Django needed): a call whose
first argument is a variable's name, through library.env's `env`, gunicorn's `_positive_int`
or os.environ.get, is a read, and its second argument the default."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app/library/settings.py", ROOT / "app/gunicorn.conf.py"]
README = ROOT / "app/README.md"
NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")
COMPUTED = object()  # a default the code works out: the table describes it in words


class Read:
    def __init__(self, call: ast.Call):
        self.name = call.args[0].value
        self.default = _value(call.args[1]) if len(call.args) > 1 else ""
        # env.whole(NAME, default, lowest, highest): the table says the range.
        self.range = ((_value(call.args[2]), _value(call.args[3]))
                      if _reader(call) == "env.whole" else None)


def _reader(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _value(node: ast.expr):
    """A literal, or arithmetic on literals (1024 * 1024); anything else is COMPUTED."""
    if all(isinstance(n, (ast.Constant, ast.BinOp, ast.operator, ast.List, ast.Tuple,
                          ast.UnaryOp, ast.unaryop, ast.Load))
           for n in ast.walk(node)):
        return eval(compile(ast.Expression(node), "<default>", "eval"), {"__builtins__": {}})
    return COMPUTED


def reads() -> dict[str, list[Read]]:
    found: dict[str, list[Read]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str) and NAME.match(node.args[0].value)
                    and (_reader(node).startswith("env.")
                         or _reader(node) in {"_positive_int", "os.environ.get"})):
                found.setdefault(node.args[0].value, []).append(Read(node))
    return found


def shown(default) -> str | None:
    """The default as the table's first code span shows it ("" or none: no code span)."""
    if isinstance(default, bool):
        return "1" if default else "0"
    if isinstance(default, (list, tuple)):
        default = ",".join(default)
    return str(default) or None


def table() -> dict[str, tuple[str | None, str]]:
    """{variable: (the default column's first code span, the meaning)} of the README's table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration (environment)\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        default = re.search(r"`([^`]+)`", cells[1])
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]):
            rows[name] = (default.group(1) if default else None, cells[2])
    return rows


def test_the_table_names_every_variable_read_and_no_other():
    read, listed = set(reads()), set(table())
    assert read - listed == set(), "read by the app, missing from app/README.md's table"
    assert listed - read == set(), "in app/README.md's table, read by no code"


def test_the_table_shows_each_default_and_range():
    rows = table()
    for name, found in reads().items():
        defaults = {shown(r.default) for r in found if r.default is not COMPUTED}
        assert len(defaults) <= 1, f"{name} is read with different defaults: {defaults}"
        if defaults:
            assert rows[name][0] == defaults.pop(), f"{name}: the table's default differs"
        for r in found:
            if r.range:
                assert f"{r.range[0]} to {r.range[1]}" in rows[name][1], f"{name}: the range"


def test_the_reading_sees_what_it_looks_for():
    found = reads()
    assert shown(found["LIBRARY_MAX_OPEN_LOANS"][0].default) == "5"
    assert found["LIBRARY_MAX_OPEN_LOANS"][0].range == (1, 1000)
    assert shown(found["LIBRARY_MAX_BODY_BYTES"][0].default) == "1048576"
    assert found["GUNICORN_WORKERS"][0].default is COMPUTED
    assert shown(found["DJANGO_DEBUG"][0].default) == "0"
    assert table()["LIBRARY_BUILT"][0] == "unknown"
