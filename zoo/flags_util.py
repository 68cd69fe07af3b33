"""Parsing helpers shared by the zoo's absl binaries."""

from __future__ import annotations

import ast
import dataclasses


def parse_grid(text: str) -> list[float]:
    """Parses a comma-separated list of positive weights, e.g. "0.5,4,32"."""
    try:
        grid = [float(item) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise ValueError(f"--grid must be comma-separated numbers, got {text!r}.") from error
    if not grid or any(not (value > 0 and value < float("inf")) for value in grid):
        raise ValueError(f"--grid needs finite weights > 0, got {text!r}.")
    return grid


def parse_overrides(items: list[str], config_class, flag_name: str = "--config") -> dict:
    """Parses `field=value` strings into typed Config overrides (values as Python literals).

    `flag_name` is the flag the strings came from, for the error message.
    """
    fields = {field.name for field in dataclasses.fields(config_class)}
    overrides = {}
    for item in items or []:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or name not in fields:
            raise ValueError(
                f"{flag_name} expects field=value with a field of {sorted(fields)}, got {item!r}."
            )
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()  # A bare word is a string.
        overrides[name] = tuple(value) if isinstance(value, list) else value
    return overrides


def import_tensorflow_quietly():
    """Imports TensorFlow with its C++ info logs and absl INFO lines hidden; returns the module.

    Binaries on `app.run` call this at import time, before `app.run`: importing TensorFlow
    for the first time inside an absl `main` made Keras's optimizer fail to build its slot
    variables ("Tensor.op is undefined when eager execution is enabled"), seen with
    TF 2.14.1. Binaries parsed by `parse_command_line` (no `app.run`) call it in their
    `run` once the command line is parsed, so that `--help` and a bad command line answer
    without importing TensorFlow; yoto-train trains that way (tests/zoo/training/).
    Warnings and errors still show; a `TF_CPP_MIN_LOG_LEVEL` set by the user wins.
    """
    import os

    from absl import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.set_verbosity(logging.WARNING)
    import tensorflow

    return tensorflow


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of a binary: its help line, its flags and its positional arguments.

    `define(flag_values)` defines the command's absl flags on `flag_values`, with
    `flag_values=flag_values` in each `flags.DEFINE_*` and `flags.mark_*` call.
    """

    help: str
    define: object  # Callable[[flags.FlagValues], None]
    positional: tuple[str, ...] = ()


def parse_command_line(prog: str, description: str, command: Command, argv=None):
    """Parses `argv` (default `sys.argv[1:]`) with absl into a fresh set of `command`'s flags.

    Returns `(flag_values, positional)`: the parsed flags and the positional arguments
    by `command.positional`'s names. `--help` prints the usage and exits with status 0; a
    bad command line prints `PROG: error: ...` and the usage to stderr and exits with
    status 2 (the convention of argparse, which these binaries used before absl).

    A fresh `FlagValues` per call, not absl's global `FLAGS`: the commands that tests call
    in one process define flags of the same names (`--model`), and values never carry over
    from one call to the next.
    """
    import sys

    from absl import flags

    argv = list(sys.argv[1:] if argv is None else argv)
    flag_values = flags.FlagValues()
    command.define(flag_values)
    names = " ".join(command.positional)
    usage = f"usage: {prog} [flags] {names}".rstrip()
    if any(arg in ("-h", "--help", "--helpshort", "--helpfull") for arg in argv):
        print(f"{usage}\n\n{description}\n\n{flag_values.get_help()}")
        raise SystemExit(0)
    try:
        rest = flag_values([prog, *argv])[1:]
        if len(rest) != len(command.positional):
            raise flags.Error(
                f"expected {len(command.positional)} positional arguments ({names}), "
                f"got {len(rest)}: {rest}"
            )
    except flags.Error as error:
        print(f"{usage}\n{prog}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return flag_values, dict(zip(command.positional, rest, strict=True))


def parse_subcommand(prog: str, description: str, commands: dict[str, Command], argv=None):
    """Parses `PROG COMMAND [flags] ARGS...`: returns `(command name, flag_values, positional)`.

    The command comes first, as argparse's subcommands wanted; each is parsed by
    `parse_command_line` with its own flags. Without a known command it prints the
    commands and exits with status 2 (0 for `--help`).
    """
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    listing = "\n".join(f"  {name:12} {command.help}" for name, command in commands.items())
    usage = f"usage: {prog} {{{','.join(commands)}}} [flags] ...\n\n{listing}"
    if not argv or argv[0] not in commands:
        if argv and argv[0] in ("-h", "--help", "--helpshort", "--helpfull"):
            print(f"{usage}\n\n{description}")
            raise SystemExit(0)
        given = f"unknown command {argv[0]!r}" if argv else "a command is required"
        print(
            f"{usage}\n{prog}: error: {given}; choose one of {', '.join(commands)}", file=sys.stderr
        )
        raise SystemExit(2)
    name = argv[0]
    flag_values, positional = parse_command_line(
        f"{prog} {name}", commands[name].help, commands[name], argv[1:]
    )
    return name, flag_values, positional
