"""The layout docs/design/architecture.md describes: which parts of `vigil/` may import which,
and no two packages or modules that import each other, at any depth."""

import ast
from collections.abc import Iterator
from pathlib import Path

import vigil

ROOT = Path(vigil.__file__).parent
_BASE = {"errors", "clock", "tasks"}
_SERVER = {
    "state",
    "auth",
    "system",
    "cameras",
    "layouts",
    "media",
    "notifications",
    "config",
    *_BASE,
}
# What each top-level part may import besides itself and `vigil` (its version). Nothing but
# `app` imports `api`, and the server's parts never import the simulated cameras.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "clock": set(),
    "tasks": set(),
    "ports": set(),
    "logs": set(),
    "config": set(),
    "http_connections": set(),
    "https": set(),
    "tls_buffers": set(),
    "peering": set(),
    "listeners": {"config", "http_connections", "https", "ports"},
    "state": {"errors", "clock"},
    "notifications": {"clock"},
    "auth": {"state", *_BASE},
    "system": {"auth", "state", "peering", *_BASE},
    "cameras": {"auth", "state", *_BASE},
    "layouts": {"auth", "state", *_BASE},
    "media": {"cameras", "auth", "state", "notifications", "logs", "peering", *_BASE},
    "api": {"system", "auth", "cameras", "layouts", "media", "notifications", *_BASE},
    "app": {"api", *_SERVER},
    "cli": {
        "app",
        "config",
        "https",
        "listeners",
        "logs",
        "ports",
        "media",
        "testcamera",
        "tls_buffers",
        *_BASE,
    },
    "__main__": {"cli"},
    "testcamera": {"media", "ports", *_BASE},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports() -> Iterator[tuple[str, str]]:
    """(importer, imported) for every import of a `vigil` module by another."""
    modules = _modules()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from vigil.media.rtsp import digest` imports the module `digest`.
                whole = (f"{node.module}.{alias.name}" for alias in node.names)
                targets = [t if t in modules else node.module for t in whole]
            else:
                continue
            yield from ((name, t) for t in targets if t.split(".")[0] == "vigil" and t != name)


def _unit(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def test_each_part_imports_only_the_parts_below_it() -> None:
    wrong = sorted(
        f"{importer} imports {imported}"
        for importer, imported in _imports()
        if (part := _unit(importer, 2).removeprefix("vigil.")) != "vigil"
        and (used := _unit(imported, 2).removeprefix("vigil.")) not in {"vigil", part}
        and used not in MAY_IMPORT[part]
    )
    assert wrong == []


def test_no_two_packages_or_modules_import_each_other() -> None:
    imports = list(_imports())
    deepest = max(len(name.split(".")) for name in _modules())
    mutual = set()
    for depth in range(2, deepest + 1):
        edges = {(_unit(a, depth), _unit(b, depth)) for a, b in imports}
        mutual |= {tuple(sorted((a, b))) for a, b in edges if a != b and (b, a) in edges}
    assert sorted(mutual) == []
