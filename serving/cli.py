"""`yoto-serving`: call exported yoto_tf models on TF Serving from the command line.

    yoto-serving signatures --grpc=localhost:8500 --model=compression_stock
    yoto-serving compress --grpc=localhost:8500 --model=compression_stock --lmbda=0.01 a.png a.yoto
    yoto-serving decompress --rest=http://localhost:8501 --model=compression_stock out.yoto back.png

`compress`/`decompress` talk to the stock-op codec servable (`<name>_stock`, which
any stock ModelServer runs) and range-code here, writing the same `.yoto` files
as `yoto-codec`. Outputs are written atomically. Errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys


def _client(args):
    from serving import client

    options = {"timeout_seconds": args.timeout, "retries": args.retries}
    if args.grpc:
        return client.GrpcClient(args.grpc, args.model, version=args.version, **options)
    return client.RestClient(args.rest, args.model, version=args.version, **options)


def _compress(args) -> str:
    from serving.codec_client import StockCodecClient
    from zoo import atomic
    from zoo.data import photos

    image = photos.read_rgb8(args.input)
    data = StockCodecClient(_client(args).predict).encode(image, args.lmbda)
    atomic.write_bytes(args.output, data)
    bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
    return f"{args.output}: {len(data)} bytes, {bpp:.4f} bpp at lambda {args.lmbda:g}"


def _decompress(args) -> str:
    import pathlib

    from serving.codec_client import StockCodecClient
    from zoo import atomic

    path = pathlib.Path(args.input)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    image = StockCodecClient(_client(args).predict).decode(path.read_bytes())
    atomic.write_png(args.output, image)
    return f"{args.output}: {image.shape[1]}x{image.shape[0]} PNG"


def _signatures(args) -> str:
    lines = []
    for name, signature in sorted(_client(args).signatures().items()):
        inputs = ", ".join(f"{k}: {v}" for k, v in sorted(signature["inputs"].items()))
        outputs = ", ".join(f"{k}: {v}" for k, v in sorted(signature["outputs"].items()))
        lines.append(f"{name}({inputs}) -> {outputs}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yoto-serving", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name, help_text):
        command = commands.add_parser(name, help=help_text)
        where = command.add_mutually_exclusive_group(required=True)
        where.add_argument("--grpc", help="ModelServer gRPC address, e.g. localhost:8500")
        where.add_argument("--rest", help="ModelServer REST URL, e.g. http://localhost:8501")
        command.add_argument("--model", required=True, help="Served model name.")
        command.add_argument("--version", type=int, help="Model version (default: newest).")
        command.add_argument(
            "--timeout", type=float, default=30.0, help="Deadline per call, retries included (s)."
        )
        command.add_argument(
            "--retries",
            type=int,
            default=3,
            help="Retries on UNAVAILABLE and RESOURCE_EXHAUSTED (HTTP 503, 429), with backoff.",
        )
        return command

    compress = add("compress", "Image file to .yoto through the stock codec servable.")
    compress.add_argument("--lmbda", type=float, required=True, help="Rate-distortion weight.")
    compress.add_argument("input")
    compress.add_argument("output")
    decompress = add("decompress", ".yoto file to PNG through the stock codec servable.")
    decompress.add_argument("input")
    decompress.add_argument("output")
    add("signatures", "List the served model's signatures (GetModelMetadata, gRPC or REST).")
    return parser


def run(argv=None) -> int:
    """Runs one command; returns the exit status (0, or 2 with a message on stderr)."""
    from serving.client import ServingError

    args = _parser().parse_args(argv)
    command = {"compress": _compress, "decompress": _decompress, "signatures": _signatures}
    try:
        print(command[args.command](args))
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
