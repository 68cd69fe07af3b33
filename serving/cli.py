"""`yoto-serving`: call exported yoto_tf models on TF Serving from the command line.

    yoto-serving signatures --grpc=localhost:8500 --model=compression_stock
    yoto-serving compress --grpc=localhost:8500 --model=compression_stock --lmbda=0.01 a.png a.yoto
    yoto-serving decompress --rest=http://localhost:8501 --model=compression_stock out.yoto back.png

`compress`/`decompress` talk to the stock-op codec servable (`<name>_stock`, which
any stock ModelServer runs) and range-code here, writing the same `.yoto` files
as `yoto-codec`. Outputs are written atomically. Errors exit with status 2.
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _client(flag_values):
    from serving import client

    options = {"timeout_seconds": flag_values.timeout, "retries": flag_values.retries}
    if flag_values.grpc:
        return client.GrpcClient(
            flag_values.grpc, flag_values.model, version=flag_values.version, **options
        )
    return client.RestClient(
        flag_values.rest, flag_values.model, version=flag_values.version, **options
    )


def _codec(flag_values):
    from serving.codec_client import StockCodecClient

    return StockCodecClient(_client(flag_values).predict)


def _compress(flag_values, files) -> str:
    from zoo.compression import codec_files

    return codec_files.compress_file(
        lambda: _codec(flag_values), files["input"], files["output"], lmbda=flag_values.lmbda
    )


def _decompress(flag_values, files) -> str:
    from zoo.compression import codec_files

    return codec_files.decompress_file(lambda: _codec(flag_values), files["input"], files["output"])


def _signatures(flag_values, files) -> str:
    del files
    lines = []
    for name, signature in sorted(_client(flag_values).signatures().items()):
        inputs = ", ".join(f"{k}: {v}" for k, v in sorted(signature["inputs"].items()))
        outputs = ", ".join(f"{k}: {v}" for k, v in sorted(signature["outputs"].items()))
        lines.append(f"{name}({inputs}) -> {outputs}")
    return "\n".join(lines)


def _define_server(flag_values):
    flags.DEFINE_string(
        "grpc", None, "ModelServer gRPC address, e.g. localhost:8500", flag_values=flag_values
    )
    flags.DEFINE_string(
        "rest", None, "ModelServer REST URL, e.g. http://localhost:8501", flag_values=flag_values
    )
    flags.mark_flags_as_mutual_exclusive(["grpc", "rest"], required=True, flag_values=flag_values)
    flags.DEFINE_string("model", None, "Served model name.", flag_values=flag_values, required=True)
    flags.DEFINE_integer(
        "version", None, "Model version (default: newest).", flag_values=flag_values
    )
    flags.DEFINE_float(
        "timeout", 30.0, "Deadline per call, retries included (s).", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "retries",
        3,
        "Retries on UNAVAILABLE and RESOURCE_EXHAUSTED (HTTP 503, 429), with backoff.",
        flag_values=flag_values,
    )


def _define_compress(flag_values):
    _define_server(flag_values)
    flags.DEFINE_float(
        "lmbda", None, "Rate-distortion weight.", flag_values=flag_values, required=True
    )


COMMANDS = {
    "compress": flags_util.Command(
        "Image file to .yoto through the stock codec servable.",
        _define_compress,
        ("input", "output"),
    ),
    "decompress": flags_util.Command(
        ".yoto file to PNG through the stock codec servable.", _define_server, ("input", "output")
    ),
    "signatures": flags_util.Command(
        "List the served model's signatures (GetModelMetadata, gRPC or REST).", _define_server
    ),
}


def run(argv=None) -> int:
    """Runs one command; returns the exit status (0, or 2 with a message on stderr)."""
    from serving.client import ServingError

    command, flag_values, files = flags_util.parse_subcommand(
        "yoto-serving", __doc__.split("\n\n")[0], COMMANDS, argv
    )
    run_command = {"compress": _compress, "decompress": _decompress, "signatures": _signatures}
    try:
        print(run_command[command](flag_values, files))
    except (ValueError, OSError, ServingError) as error:
        print(f"yoto-serving: error: {error}", file=sys.stderr)
        return 2
    except (KeyError, TypeError) as error:  # A reply that is not TF Serving's shape.
        print(f"yoto-serving: error: unexpected reply from the server ({error!r})", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001  A command-line tool answers, never a traceback.
        print(f"yoto-serving: error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    return 0


def main():
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
