"""Every module of marketplace/ stays small enough to read: at most 400 lines a file, 60 a function.

A file or function past the limit is a sign that a concept wants its own module or a named step; the test
names each one with its size so the split can be planned. Migrations and benchmarks live outside marketplace/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "marketplace"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    modules = sorted(ROOT.rglob("*.py"))
    assert len(modules) > 100, "the package was not found"
    return modules


def test_no_module_is_longer_than_400_lines():
    too_long = {str(path.relative_to(ROOT)): lines for path in _modules()
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES}
    assert too_long == {}


def test_no_function_is_longer_than_60_lines():
    too_long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert too_long == {}
