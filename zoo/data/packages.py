"""Files of Debian packages, extracted without installing the packages.

Some packages carry images this project trains on (paintings, photographs) but depend on
desktop stacks (Qt, KDE) that nothing here needs. They are fetched with `apt-get download`
and unpacked with `dpkg-deb` into this project's data root, never installed:

    $YOTO_TF_DATA (default /var/lib/yoto_tf)/debian/<package>/<path as installed>

so `debian_package_root("opencv-doc") / "usr/share/doc/opencv-doc/copyright"` is where
`apt-get install opencv-doc` would have put `/usr/share/doc/opencv-doc/copyright`. The
default root is system-wide, so `make paintings` (and `make photos`) run as root; a user
may point YOTO_TF_DATA at a folder of their own instead (and must set it when training too).

Each extracted package keeps a stamp (`.yoto_tf_package.json`: version, the .deb's sha256,
which files were asked for), so fetching again is a no-op and asking for more files of it
later extracts just those.

    python -m zoo.data.packages --packages=opencv-doc,gcompris-qt-data
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

from absl import app, flags

from zoo import atomic

DATA_ROOT_ENV = "YOTO_TF_DATA"
DEFAULT_DATA_ROOT = pathlib.Path("/var/lib/yoto_tf")
STAMP = ".yoto_tf_package.json"


class PackageError(RuntimeError):
    """A package could not be fetched or extracted; the message says why and what to do."""


def data_root() -> pathlib.Path:
    """Where data from packages lives: `$YOTO_TF_DATA`, else `/var/lib/yoto_tf`."""
    value = os.environ.get(DATA_ROOT_ENV)
    return pathlib.Path(value).expanduser() if value else DEFAULT_DATA_ROOT


def debian_package_root(package: str) -> pathlib.Path:
    """The folder that Debian package `package`'s files are extracted under, at their
    installed paths (`<root>/debian/<package>/usr/share/...`)."""
    if not package or "/" in package or package.startswith("."):
        raise ValueError(f"{package!r} is not a Debian package name.")
    return data_root() / "debian" / package


def debian_file(package: str, relative: str, make_target: str) -> pathlib.Path:
    """The extracted file `relative` (e.g. `usr/share/...`) of `package`, or a
    FileNotFoundError that names the file and the `make` target that extracts it."""
    path = debian_package_root(package) / relative.lstrip("/")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: it comes from the Debian package {package!r}, which "
            f"'sudo make {make_target}' extracts into {data_root()} (set {DATA_ROOT_ENV} to "
            "use another folder)."
        )
    return path


def read_stamp(package: str) -> dict | None:
    """What `fetch_debian_package` recorded about `package` (None if never extracted)."""
    path = debian_package_root(package) / STAMP
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # A damaged stamp: extract again.


def is_extracted(package: str, members=None) -> bool:
    """Whether `package` is extracted with every file of `members` (None: all of it)."""
    stamp = read_stamp(package)
    if stamp is None:
        return False
    if members is None:
        return stamp.get("members") is None
    root = debian_package_root(package)
    return all((root / member.lstrip("/")).is_file() for member in members)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _download(package: str, folder: pathlib.Path) -> pathlib.Path:
    """`apt-get download package` into `folder`; the .deb's path. As root, refreshes the
    package lists once and retries when the package is unknown or its file is gone."""
    command = ["apt-get", "download", package]
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root:
        # apt's sandbox user cannot write into a root-owned temporary folder.
        command[1:1] = ["-o", "APT::Sandbox::User=root"]
    result = _run(command, cwd=folder)
    if result.returncode != 0 and is_root:
        _run(["apt-get", "update"])
        result = _run(command, cwd=folder)
    if result.returncode != 0:
        tail = " ".join(result.stderr.strip().splitlines()[-2:])
        refresh = "" if is_root else " (as root, 'apt-get update' first may fix it)"
        raise PackageError(
            f"'apt-get download {package}' failed: {tail or 'no message'}. It needs the "
            f"Debian package lists and network access to a Debian mirror{refresh}."
        )
    debs = sorted(folder.glob(f"{package}_*.deb"))
    if len(debs) != 1:
        raise PackageError(f"'apt-get download {package}' left {len(debs)} .deb files.")
    return debs[0]


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(deb: pathlib.Path, members, into: pathlib.Path) -> list[str]:
    """Unpacks `members` (None: everything) of `deb`'s file tree into `into`; the files
    unpacked, as relative paths. Streams `dpkg-deb --fsys-tarfile` through tarfile, so only
    the wanted files are written and none can land outside `into`."""
    wanted = None if members is None else {member.lstrip("/") for member in members}
    unpacked = []
    with subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            with tarfile.open(fileobj=process.stdout, mode="r|*") as archive:
                for member in archive:
                    name = member.name.removeprefix("./")
                    if not name or member.isdir() or (wanted is not None and name not in wanted):
                        continue
                    member.name = name
                    archive.extract(member, into, filter="data")
                    unpacked.append(name)
        except tarfile.TarError as error:
            raise PackageError(f"{deb.name} is not a readable Debian package: {error}") from None
        errors = process.stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise PackageError(f"'dpkg-deb --fsys-tarfile {deb.name}' failed: {errors}")
    if wanted is not None:
        missing = sorted(wanted - set(unpacked))
        if missing:
            raise PackageError(f"{deb.name} has no {', '.join(missing)}.")
    return unpacked


def _check_tools() -> None:
    missing = [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        raise PackageError(
            f"{' and '.join(missing)} not found: extracting Debian packages needs a Debian "
            "or Ubuntu system."
        )


def _writable_root() -> pathlib.Path:
    root = data_root()
    try:
        (root / "debian").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PackageError(_not_writable(root, error)) from None
    if not os.access(root / "debian", os.W_OK):
        raise PackageError(_not_writable(root, "permission denied"))
    return root


def _not_writable(root, why) -> str:
    return (
        f"cannot write the data root {root} ({why}): run the step as root ('sudo make ...'), "
        f"or set {DATA_ROOT_ENV} to a folder you can write (and keep it set when training)."
    )


def fetch_debian_package(package: str, members=None) -> bool:
    """Extracts `members` (paths as installed, e.g. `usr/share/...`; None: the whole package)
    of Debian package `package` under `debian_package_root(package)`, without installing it.

    Returns False, doing nothing, when they are there already; True after extracting. A
    failure is a PackageError whose message names the package and the fix.
    """
    if is_extracted(package, members):
        return False
    _check_tools()
    root = _writable_root()
    destination = debian_package_root(package)
    with tempfile.TemporaryDirectory(dir=root / "debian", prefix=f".{package}-") as scratch:
        scratch = pathlib.Path(scratch)
        os.chmod(scratch, 0o755)
        deb = _download(package, scratch)
        version = _run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()
        unpacked = _extract(deb, members, scratch / "tree")
        for name in unpacked:
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / "tree" / name, target)
        previous = read_stamp(package) or {}
        if members is None:
            recorded = None
        else:
            # Files asked for before (same version) stay recorded beside the new ones.
            before = previous.get("members") if previous.get("version") == version else []
            recorded = sorted(set(before or []) | {m.lstrip("/") for m in members})
        stamp = {
            "package": package,
            "version": version,
            "deb": deb.name,
            "deb_sha256": _sha256(deb),
            "members": recorded,
        }
        atomic.write_bytes(destination / STAMP, (json.dumps(stamp, indent=1) + "\n").encode())
    return True


def main(argv):
    """Extracts --packages whole; prints what it did, or the error and exits 2."""
    del argv
    try:
        for package in flags.FLAGS.packages:
            done = fetch_debian_package(package)
            print(
                f"{package}: {'extracted' if done else 'already there'} under "
                f"{debian_package_root(package)}"
            )
    except PackageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    # Defined here, not at import, so that importing this module adds no flags to binaries.
    flags.DEFINE_list("packages", [], "Debian packages to extract whole into the data root.")
    app.run(main)
