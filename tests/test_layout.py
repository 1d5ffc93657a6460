"""The house rules of docs/layout.md, checked on the source: components never import a recipe,
no function is longer than 80 lines (unless a comment says why)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "eggesture"
#: Where an import of a recipe belongs: the front ends (the command line, the web app), the
#: recipes themselves, and the package's lazy ``eggesture.generate`` entry point.
MAY_IMPORT_RECIPES = ("cli", "app", "recipes", "__init__.py")


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    base = package[: len(package) - node.level + 1] if node.level else ()
    return ".".join([*base, *(node.module.split(".") if node.module else [])])


def test_no_component_imports_a_recipe():
    offenders = []
    for path, tree in _modules():
        if path.relative_to(SRC).parts[0] in MAY_IMPORT_RECIPES:
            continue
        for node in ast.walk(tree):
            names = ([_absolute(path, node)] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(SRC)}:{node.lineno} {n}" for n in names
                          if n.startswith("eggesture.recipes")]
    assert offenders == []


def test_no_function_is_longer_than_80_lines():
    long = []
    for path, tree in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                why = any("longer than 80 lines because" in ln
                          for ln in lines[node.lineno - 1:node.end_lineno])
                if n > 80 and not why:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert long == []
