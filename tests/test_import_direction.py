"""Imports flow one way: yoto_tf <- zoo <- export <- demos; serving uses zoo's file format.

Every module of the project's packages is parsed with `ast` (imports inside
functions included, since those are how a cycle hides), and every import of a
project module is checked against the allowed direction:

    yoto_tf   the library: imports none of the other packages
    zoo       yoto_tf
    export    yoto_tf, zoo
    demos     yoto_tf, zoo, export (the programs on top: train, export, show)
    serving   from zoo only the `.yoto` file format and files, the Codec, image reading, atomic
              writes and flag parsing
    web       yoto_tf, zoo, export, and serving's clients (`make web`: an application on
              top, like demos, that calls the exported models through the project's own
              serving code, so it is the one package that may import serving)
    (nothing imports serving, demos or web, but web imports serving's clients)

Inside zoo the subpackages are layered, each importing only layers below it:

    zoo (its top-level modules: the task registry, atomic writes, figures, tables, ...)
    zoo.data        MNIST, photographs, paintings, packaged data
    zoo.loading     "give me this model": training dirs, snapshots, releases by name
    zoo.evaluation  loss terms over a weight grid, for any task it is handed
    the tasks       zoo.beta_vae, zoo.compression, zoo.style_transfer, ...: never each other
                    (a task's release checks may evaluate its models: beta_vae's do)
    zoo.training    the training loop
    zoo.releases    publishing and checking releases

The registry (`zoo.tasks`) names each task's modules as strings (its config, model, data,
summaries, servables and release checks); `RegistryTest` resolves every one and checks
that it lives in its own task's package.

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
# the codec with its backend interface, which the stock-op client implements, the file
# commands that `yoto-codec` shares, and the binaries' flag parsing.
SERVING_MAY_IMPORT_FROM_ZOO = {
    "zoo.compression.codec_format",
    "zoo.compression.codec",
    "zoo.compression.codec_files",
    "zoo.flags_util",
    "zoo.data.photos",
    "zoo.atomic",
}


# zoo's layers, lowest first; a layer of several subpackages (the tasks) may not import
# across itself. A subpackage not listed here is a task (a new task needs no entry).
ZOO_LAYERS = (
    ("zoo",),
    ("zoo.data",),
    ("zoo.loading",),
    ("zoo.evaluation",),
    None,  # The tasks.
    ("zoo.training",),
    ("zoo.releases",),
)


def zoo_unit(module: str) -> str:
    """The layer unit of a zoo module: its subpackage (`zoo.compression`), or `zoo` itself."""
    parts = module.split(".")
    if len(parts) >= 2 and (ROOT / "zoo" / parts[1]).is_dir():
        return f"zoo.{parts[1]}"
    return "zoo"


def zoo_layer(unit: str) -> int:
    """The index of `unit`'s layer in ZOO_LAYERS (a subpackage not named is a task)."""
    for index, layer in enumerate(ZOO_LAYERS):
        if layer is not None and unit in layer:
            return index
    return ZOO_LAYERS.index(None)


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
        return (
            zoo_layer_violation(module_name(item.path), item.module) if importer == "zoo" else None
        )
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


def zoo_layer_violation(importer: str, imported: str) -> str | None:
    """Why zoo module `importer` may not import `imported` (layers, tasks), or None."""
    source, target = zoo_unit(importer), zoo_unit(imported)
    if source == target:
        return None
    if zoo_layer(target) < zoo_layer(source):
        return None
    if zoo_layer(target) == zoo_layer(source) == ZOO_LAYERS.index(None):
        return f"tasks never import each other: {source} imports {target}"
    return f"{source} sits below {target} in zoo's layers and may not import it"


def violations(files, sources: dict | None = None) -> list[str]:
    """One line per import against the direction: file, line, import and the rule.

    `sources`: text to read instead of the file, by path (a planted file in tests).
    """
    found = []
    for path in files:
        for item in imports_of(path, (sources or {}).get(path)):
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


def unit_of(module: str) -> str:
    """The BUILD grain of a module: its zoo subpackage (`zoo.compression`) or its package."""
    return zoo_unit(module) if module.split(".")[0] == "zoo" else module.split(".")[0]


def package_of(target: Target) -> str | None:
    """The unit (`unit_of`) a target's sources are in (None outside them, e.g. bench/)."""
    units = {
        unit_of(module_name(pathlib.Path(src)))
        for src in target.srcs
        if src.endswith(".py") and pathlib.Path(src).parts[0] in PACKAGES
    }
    if len(units) == 1 and all(pathlib.Path(s).parts[0] in PACKAGES for s in target.srcs):
        return units.pop()
    return None


# BUILD's library of the tasks the registry names by string, and the unit it stands for.
REGISTRY_TARGET = "zoo_tasks"
REGISTRY_UNIT = "the registry's tasks"


def registry_units() -> set[str]:
    """The zoo units of the modules the registry (`zoo.tasks.TASKS`) names."""
    import importlib

    tasks = importlib.import_module("zoo.tasks")
    return {
        zoo_unit(getattr(task, field.name))
        for task in tasks.TASKS.values()
        for field in dataclasses.fields(task)
        if field.name not in ("name", "training_data") and getattr(task, field.name)
    }


def build_mismatches() -> list[str]:
    """One line per target whose declared deps differ from the units its sources import.

    A py_binary that imports zoo depends on REGISTRY_TARGET too: the registry reaches the
    tasks by name at run time. That target's deps are the registry's task packages.
    """
    targets = build_targets()
    libraries = {t.name: package_of(t) for t in targets.values() if t.kind == "py_library"}
    libraries[REGISTRY_TARGET] = REGISTRY_UNIT
    mismatches = []
    registry = targets.get(REGISTRY_TARGET)
    declared_tasks = (
        {libraries.get(dep.lstrip(":")) for dep in registry.deps} if registry else set()
    )
    if declared_tasks != registry_units():
        mismatches.append(
            f"BUILD py_library {REGISTRY_TARGET!r}: the registry names {sorted(registry_units())}, "
            f"its deps give {sorted(map(str, declared_tasks))}"
        )
    for target in targets.values():
        if package_of(target) is None:
            continue
        own_sources = {module_name(pathlib.Path(src)) for src in target.srcs}
        imported = {
            unit_of(item.module)
            for src in target.srcs
            for item in imports_of(pathlib.Path(src))
            if item.module not in own_sources
        }
        if target.kind == "py_library":
            imported.discard(package_of(target))
        elif any(unit.split(".")[0] == "zoo" for unit in imported):
            imported.add(REGISTRY_UNIT)
        declared = {libraries.get(dep.lstrip(":")) for dep in target.deps}
        if declared != imported:
            mismatches.append(
                f"BUILD {target.kind} {target.name!r}: its sources import "
                f"{sorted(imported)}, its deps give {sorted(map(str, declared))} "
                f"(deps = {target.deps})"
            )
    return mismatches


def binaries() -> list[pathlib.Path]:
    """The project's files that run as programs (`if __name__ == "__main__"`)."""
    return [
        path for path in project_files() if '__name__ == "__main__"' in (ROOT / path).read_text()
    ]


class RegistryTest(unittest.TestCase):
    """Every module the task registry names by string exists, inside its task's package."""

    def test_every_registered_module_resolves_inside_its_task(self):
        import importlib
        import importlib.util

        tasks = importlib.import_module("zoo.tasks")
        for task in tasks.TASKS.values():
            for field in dataclasses.fields(task):
                value = getattr(task, field.name)
                if field.name in ("name", "training_data") or value is None:
                    continue
                with self.subTest(task=task.name, entry=field.name):
                    module = value if is_module(value) else value.rpartition(".")[0]
                    self.assertTrue(is_module(module), f"{value} names no module")
                    self.assertEqual(zoo_unit(module), f"zoo.{task.name}", value)
                    if module != value:  # module.Class: the class is defined there.
                        source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
                        self.assertIn(f"class {value.rpartition('.')[2]}", source, value)


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

    def test_a_zoo_import_against_the_layers_is_reported(self):
        def reason(path, source):
            (item,) = imports_of(pathlib.Path(path), source)
            return violation(item)

        self.assertEqual(
            reason("zoo/compression/codec_cli.py", "from zoo.training import train_lib\n"),
            "zoo.compression sits below zoo.training in zoo's layers and may not import it",
        )
        self.assertEqual(
            reason(
                "zoo/style_transfer/model.py", "def f():\n    from zoo.compression import codec\n"
            ),
            "tasks never import each other: zoo.style_transfer imports zoo.compression",
        )
        self.assertIsNotNone(reason("zoo/loading/__init__.py", "from zoo import releases\n"))
        self.assertIsNotNone(reason("zoo/tasks.py", "from zoo.data import photos\n"))
        self.assertIsNone(reason("zoo/releases/checks.py", "from zoo.training import train_lib\n"))
        self.assertIsNone(reason("zoo/compression/codec.py", "from zoo import loading\n"))
        self.assertIsNone(
            reason("zoo/beta_vae/release_checks.py", "from zoo.evaluation import evaluate_lib\n")
        )
        self.assertIsNotNone(
            reason("zoo/evaluation/evaluate_lib.py", "from zoo.compression import codec\n")
        )

    def test_a_planted_wrong_import_fails_the_whole_tree_check(self):
        planted = pathlib.Path("zoo/loading/planted_wrong_import.py")
        source = {planted: "from zoo.training import train_lib\n"}
        found = violations([*project_files(), planted], sources=source)
        self.assertEqual(len(found), 1, found)
        self.assertIn("zoo/loading/planted_wrong_import.py:1", found[0])

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

    def test_every_zoo_package_is_one_library_and_every_binary_a_py_binary(self):
        targets = build_targets().values()
        libraries = [package_of(t) for t in targets if t.kind == "py_library"]
        units = {unit_of(module_name(path)) for path in project_files(("zoo",))}
        for unit in sorted(units):
            with self.subTest(unit=unit):
                self.assertEqual(libraries.count(unit), 1, f"{unit}: one py_library")
        binary_sources = {src for t in targets if t.kind == "py_binary" for src in t.srcs}
        missing = [str(path) for path in binaries() if str(path) not in binary_sources]
        self.assertEqual(missing, [], "programs without a py_binary")
