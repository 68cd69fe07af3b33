"""The command line shared by tools that write a snapshot derived from a trained one.

Widening a codec's transforms, giving it a new entropy model, giving a style network the
photograph's skip: each reads `--snapshot`, writes `--output` (`snapshots.write_derived`)
and says how to train on from it. Their flags live on a fresh `FlagValues` per call
(`flags_util.parse_command_line`), so that tools defining flags of the same names can be
imported into one process, as the tests do.
"""

from __future__ import annotations

import shlex
import sys

from zoo import flags_util


def run(module: str, description: str, define, derive, report, follow: str, argv=None) -> int:
    """Parses `define`'s flags, calls `derive`, prints what was written; the exit status.

    `define(flag_values)` defines the tool's flags, `--output` among them; `derive(args,
    command)` writes the snapshot to `args.output`, raising ValueError or FileNotFoundError
    with a message naming the input for a bad one (then this prints `TOOL: error: ...` to
    stderr and returns 2); `report(args, metadata)` says what was written, and `follow`
    introduces the `yoto-train` command that trains on from it ("continue its run with").
    """
    args, _ = flags_util.parse_command_line(
        f"python -m {module}", description, flags_util.Command(description, define), argv
    )
    flags_util.import_tensorflow_quietly()
    from zoo import loading
    from zoo.loading import snapshots

    command = shlex.join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)])
    try:
        derive(args, command)
    except (ValueError, FileNotFoundError) as error:
        print(f"{module.rsplit('.', 1)[-1]}: error: {error}", file=sys.stderr)
        return 2
    metadata = snapshots.read_metadata(args.output)
    print(
        f"wrote {args.output}: {report(args, metadata)}; {follow} "
        f"{loading.continue_command(metadata, args.output)}"
    )
    return 0
