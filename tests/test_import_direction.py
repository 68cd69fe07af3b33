"""Imports flow one way: yoto_tf <- zoo <- export <- demos; serving uses zoo's file format.

Every module of the project's packages is parsed with `ast` (imports inside
functions included, since those are how a cycle hides), and every import of a
project module is checked against the allowed direction:

    yoto_tf   the library: imports none of the other packages
    zoo       yoto_tf
    export    yoto_tf, zoo
    demos     yoto_tf, zoo, export (the programs on top: train, export, show)
    serving   from zoo only the `.yoto` file format, the Codec, image reading and atomic writes
    web       yoto_tf, zoo, export, and serving's clients (`make web`: an application on
              top, like demos, that calls the exported models through the project's own
              serving code, so it is the one package that may import serving)
    (nothing imports serving, demos or web, but web imports serving's clients)

BUILD's py_library and py_binary targets must declare exactly the package edges
that their sources' imports make, so that Bazel builds what Python imports.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import unittest

# Not resolved: under Bazel the runfiles tree (the declared sources) is what is read.
ROOT = pathlib.Path(__file__).absolute().parent.parent
PACKAGES = ("yoto_tf", "zoo", "export", "demos", "serving", "web")

# Project packages each package may import (besides itself).
ALLOWED_PACKAGES = {
    "yoto_tf": set(),
    "zoo": {"yoto_tf"},
    "export": {"yoto_tf", "zoo"},
    "demos": {"yoto_tf", "zoo", "export"},
    "serving": {"zoo"},
    "web": {"yoto_tf", "zoo", "export", "serving"},
}
# What web may take from serving: the clients, in process and over gRPC/REST, that a user of
# a served model would call (not the command line).
WEB_MAY_IMPORT_FROM_SERVING = {"serving.client", "serving.codec_client"}
# What serving may take from zoo: the `.yoto` file format, reading images, atomic writes,
# and the codec with its backend interface, which the stock-op client implements.
SERVING_MAY_IMPORT_FROM_ZOO = {
    "zoo.compression.codec_format",
    "zoo.compression.codec",
    "zoo.data.photos",
    "zoo.atomic",
}


@dataclasses.dataclass(frozen=True)
class Import:
    """One import of a project module: where it is written and what it names."""

    path: pathlib.Path  # relative to the repository root
    line: int
    module: str  # the module imported, e.g. "zoo.compression.codec_format"
    text: str  # the import statement as written

    def __str__(self):
        return f"{self.path}:{self.line}: {self.text}"


def module_name(path: pathlib.Path) -> str:
    """`zoo/compression/codec.py` -> `zoo.compression.codec`; `zoo/__init__.py` -> `zoo`."""
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether `name` is a module or package of this repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def project_files(packages=PACKAGES) -> list[pathlib.Path]:
    """Every Python file of `packages`, relative to the repository root."""
    files = []
    for package in packages:
        files += sorted(p.relative_to(ROOT) for p in (ROOT / package).rglob("*.py"))
    return files


def imports_of(path: pathlib.Path, source: str | None = None) -> list[Import]:
    """The project modules that the file at `path` (or `source`) imports, at any depth."""
    if source is None:
        source = (ROOT / path).read_text()
    tree = ast.parse(source, filename=str(path))
    this_module = module_name(path)
    this_package = this_module if path.name == "__init__.py" else this_module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # Relative: resolved against this file's package.
                anchor = this_package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from zoo.compression import codec` imports the module zoo.compression.codec;
            # `from zoo.compression.codec import Codec` imports zoo.compression.codec too.
            names = [
                f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base
                for alias in node.names
            ]
        else:
            continue
        text = ast.get_source_segment(source, node) or ""
        for name in dict.fromkeys(names):
            if name.split(".")[0] in PACKAGES:
                found.append(Import(path, node.lineno, name, " ".join(text.split())))
    return found


def violation(item: Import) -> str | None:
    """Why `item` goes against the allowed direction, or None when it is allowed."""
    importer = item.path.parts[0]
    imported = item.module.split(".")[0]
    if imported == importer:
        return None
    if importer == "web" and item.module in WEB_MAY_IMPORT_FROM_SERVING:
        return None
    if imported in ("serving", "demos", "web"):
        return f"nothing imports {imported}"
    if imported not in ALLOWED_PACKAGES[importer]:
        allowed = ", ".join(sorted(ALLOWED_PACKAGES[importer])) or "no other package"
        return f"{importer} may import {allowed}, not {imported}"
    if importer == "serving" and item.module not in SERVING_MAY_IMPORT_FROM_ZOO:
        allowed = ", ".join(sorted(SERVING_MAY_IMPORT_FROM_ZOO))
        return f"serving may import from zoo only {allowed}, not {item.module}"
    return None


def violations(files) -> list[str]:
    """One line per import against the direction: file, line, import and the rule."""
    found = []
    for path in files:
        for item in imports_of(path):
            reason = violation(item)
            if reason is not None:
                found.append(f"{item}  ({reason})")
    return found


# BUILD, read by running its Starlark as Python with the rules recording their targets.
@dataclasses.dataclass
class Target:
    """A py_library or py_binary of BUILD: its sources and the targets it depends on."""

    kind: str
    name: str
    srcs: list[str]
    deps: list[str]


def build_targets() -> dict[str, Target]:
    """BUILD's py_library and py_binary targets by name."""
    targets = {}

    def rule(kind):
        def record(name, srcs=(), deps=(), **_):
            targets[name] = Target(kind, name, list(srcs), list(deps))

        return record

    def glob(include, exclude=()):
        matched = {str(p.relative_to(ROOT)) for pattern in include for p in ROOT.glob(pattern)}
        excluded = {str(p.relative_to(ROOT)) for pattern in exclude for p in ROOT.glob(pattern)}
        return sorted(matched - excluded)

    namespace = {
        "package": lambda **_: None,
        "glob": glob,
        "py_library": rule("py_library"),
        "py_binary": rule("py_binary"),
        "py_test": lambda **_: None,
    }
    exec(compile((ROOT / "BUILD").read_text(), "BUILD", "exec"), namespace)  # noqa: S102
    return targets


def package_of(target: Target) -> str | None:
    """The project package a target's sources are in (None outside them, e.g. bench/)."""
    packages = {pathlib.Path(src).parts[0] for src in target.srcs if src.endswith(".py")}
    if len(packages) == 1 and packages <= set(PACKAGES):
        return packages.pop()
    return None


def build_mismatches() -> list[str]:
    """One line per target whose declared deps differ from the packages its sources import."""
    targets = build_targets()
    libraries = {t.name: package_of(t) for t in targets.values() if t.kind == "py_library"}
    mismatches = []
    for target in targets.values():
        if package_of(target) is None:
            continue
        own_sources = {module_name(pathlib.Path(src)) for src in target.srcs}
        imported = {
            item.module.split(".")[0]
            for src in target.srcs
            for item in imports_of(pathlib.Path(src))
            if item.module not in own_sources
        }
        if target.kind == "py_library":
            imported.discard(package_of(target))
        declared = {libraries.get(dep.lstrip(":")) for dep in target.deps}
        if declared != imported:
            mismatches.append(
                f"BUILD {target.kind} {target.name!r}: its sources import "
                f"{sorted(imported)}, its deps give {sorted(map(str, declared))} "
                f"(deps = {target.deps})"
            )
    return mismatches


class ImportDirectionTest(unittest.TestCase):
    """The packages import each other in one direction only, and BUILD says so."""

    def test_every_package_is_parsed(self):
        files = project_files()
        for package in PACKAGES:
            self.assertIn(pathlib.Path(package, "__init__.py"), files)

    def test_function_local_imports_are_seen(self):
        source = "import os\n\n\ndef load():\n    from zoo.compression import codec_format\n"
        found = imports_of(pathlib.Path("zoo/example.py"), source)
        self.assertEqual([(i.module, i.line) for i in found], [("zoo.compression.codec_format", 5)])

    def test_a_wrong_import_is_reported_with_its_file_line_and_text(self):
        item = Import(
            pathlib.Path("zoo/compression/codec.py"),
            7,
            "export.layout",
            "from export import layout",
        )
        self.assertEqual(violation(item), "zoo may import yoto_tf, not export")
        self.assertIn("zoo/compression/codec.py:7: from export import layout", str(item))
        self.assertEqual(
            violation(Import(pathlib.Path("export/a.py"), 1, "serving.client", "x")),
            "nothing imports serving",
        )
        self.assertIsNotNone(violation(Import(pathlib.Path("yoto_tf/a.py"), 1, "zoo", "x")))
        self.assertIsNotNone(
            violation(Import(pathlib.Path("serving/a.py"), 1, "zoo.compression.model", "x"))
        )
        self.assertIsNone(violation(Import(pathlib.Path("export/a.py"), 1, "zoo.atomic", "x")))

    def test_web_may_import_servings_clients_and_nothing_imports_web(self):
        for module in sorted(WEB_MAY_IMPORT_FROM_SERVING):
            self.assertIsNone(violation(Import(pathlib.Path("web/a.py"), 1, module, "x")))
        self.assertEqual(
            violation(Import(pathlib.Path("web/a.py"), 1, "serving.cli", "x")),
            "nothing imports serving",
        )
        self.assertEqual(
            violation(Import(pathlib.Path("demos/a.py"), 1, "web.app", "x")),
            "nothing imports web",
        )

    def test_imports_follow_the_allowed_direction(self):
        found = violations(project_files())
        self.assertEqual(found, [], "imports against the direction:\n" + "\n".join(found))

    def test_build_deps_match_the_imports(self):
        found = build_mismatches()
        self.assertEqual(found, [], "BUILD deps that differ from imports:\n" + "\n".join(found))
