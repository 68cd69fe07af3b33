"""Prints the op types of every signature of a SavedModel, flags custom ones, and
says for each op and dtype whether TensorFlow has a GPU kernel for it.

    .venv/bin/python -m export.list_ops BASE/compression_stock/1

Reads `saved_model.pb` as a protobuf, so it needs neither the model's Python code
nor any custom-op library; exits 1 if an op is not registered in stock TensorFlow.
The GPU column comes from TensorFlow's kernel registry (`placement_table`), so it
runs on a CPU-only machine with the CUDA-built `tensorflow` wheel.
"""

from __future__ import annotations

import pathlib
import sys


def saved_model_op_types(saved_model_dir) -> set[str]:
    """Op types of every node in the SavedModel's graph and function library."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((pathlib.Path(saved_model_dir) / "saved_model.pb").read_bytes())
    ops, function_names = set(), set()
    for meta_graph in proto.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            function_names.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    # A direct call of a library function is a node whose op is the function's name.
    return ops - function_names


def _function_names(node) -> list[str]:
    """The library functions a node calls: its op itself, or function-valued attrs."""
    names = [node.op]
    for value in node.attr.values():
        if value.func.name:
            names.append(value.func.name)
        names.extend(function.name for function in value.list.func)
    return names


def signature_nodes(saved_model_dir) -> dict[str, list]:
    """Signature name -> every NodeDef that running it can execute (its functions' too).

    Starts from the nodes that produce the signature's outputs in the MetaGraph and
    follows inputs and function calls (`StatefulPartitionedCall`'s `f`, `If` and
    `While` branches); the saver's functions, which no request runs, stay out.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((pathlib.Path(saved_model_dir) / "saved_model.pb").read_bytes())
    (meta_graph,) = proto.meta_graphs
    graph_nodes = {node.name: node for node in meta_graph.graph_def.node}
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    result = {}
    for name, signature in meta_graph.signature_def.items():
        if name.startswith("__"):  # __saved_model_init_op: run at load, by no request.
            continue
        nodes, seen_nodes, seen_functions = [], set(), set()
        pending = [info.name.split(":")[0] for info in signature.outputs.values()]
        while pending:
            node_name = pending.pop().lstrip("^").split(":")[0]
            if node_name in seen_nodes or node_name not in graph_nodes:
                continue
            seen_nodes.add(node_name)
            node = graph_nodes[node_name]
            pending.extend(node.input)
            calls = [node]
            while calls:
                current = calls.pop()
                called = [f for f in _function_names(current) if f in functions]
                if current.op not in functions:
                    nodes.append(current)
                for function_name in called:
                    if function_name not in seen_functions:
                        seen_functions.add(function_name)
                        calls.extend(functions[function_name].node_def)
        result[name] = nodes
    return result


def _dtype_attrs(node) -> dict[str, tuple[int, ...]]:
    return {
        key: (value.type,) if value.type else tuple(value.list.type)
        for key, value in node.attr.items()
        if value.type or value.list.type
    }


GPU = "GPU"
GPU_HOST_MEMORY = "GPU, host memory"
CPU_ONLY = "CPU only"
NOT_REGISTERED = "not registered"


def gpu_kernel(op: str, dtype_attrs: dict[str, tuple[int, ...]]) -> tuple[str, tuple[str, ...]]:
    """Whether TensorFlow registers a GPU kernel for `op` with these dtype attrs.

    Returns `(GPU | GPU_HOST_MEMORY | CPU_ONLY | NOT_REGISTERED, host-memory args)`.
    Kernels registered for DEVICE_DEFAULT count as GPU kernels (TF 2.x registers many
    shape and variable ops that way, for every device). GPU_HOST_MEMORY means a GPU
    kernel whose named arguments stay in host memory (TensorFlow's convention for
    int32 shapes and indices): no copy, but no GPU arithmetic on those either.
    Needs a TensorFlow built with CUDA (the Linux `tensorflow` 2.14 wheel is); a
    CPU-only build registers no GPU kernels, which `gpu_kernels_registered` tells.
    """
    from tensorflow.python.framework import kernels

    registered = kernels.get_registered_kernels_for_op(op).kernel
    if not registered:
        return NOT_REGISTERED, ()
    for kernel in registered:
        if kernel.device_type not in ("GPU", "DEFAULT") or kernel.label:
            continue
        if all(
            set(dtype_attrs.get(c.name, ())) <= set(c.allowed_values.list.type)
            for c in kernel.constraint
        ):
            host = tuple(kernel.host_memory_arg)
            return (GPU_HOST_MEMORY if host else GPU), host
    return CPU_ONLY, ()


def gpu_kernels_registered() -> bool:
    """Whether this TensorFlow registers GPU kernels at all (a CUDA build), e.g. Conv2D's."""
    from tensorflow.python.framework import kernels

    return any(
        k.device_type == "GPU" for k in kernels.get_registered_kernels_for_op("Conv2D").kernel
    )


def placement_table(saved_model_dir) -> list[dict]:
    """One row per (op, dtypes) of the signatures: its GPU kernel and the signatures using it.

    Rows are dicts with `op`, `dtypes` ("T=float"), `kernel` (see `gpu_kernel`),
    `host_memory` and `signatures` (sorted names), sorted by kernel kind, then op.
    """
    from tensorflow.python.framework import dtypes

    rows = {}
    for signature, nodes in signature_nodes(saved_model_dir).items():
        for node in nodes:
            attrs = _dtype_attrs(node)
            described = " ".join(
                f"{key}={','.join(dtypes.as_dtype(t).name for t in types)}"
                for key, types in sorted(attrs.items())
            )
            key = (node.op, described)
            if key not in rows:
                kernel, host = gpu_kernel(node.op, attrs)
                rows[key] = {
                    "op": node.op,
                    "dtypes": described,
                    "kernel": kernel,
                    "host_memory": host,
                    "signatures": set(),
                }
            rows[key]["signatures"].add(signature)
    order = {NOT_REGISTERED: 0, CPU_ONLY: 1, GPU_HOST_MEMORY: 2, GPU: 3}
    table = sorted(rows.values(), key=lambda r: (order[r["kernel"]], r["op"], r["dtypes"]))
    for row in table:
        row["signatures"] = sorted(row["signatures"])
    return table


def cpu_reason(row: dict) -> str | None:
    """Why a `placement_table` row without a GPU kernel may run on the CPU, or None.

    None for rows with a GPU kernel, and for CPU-only rows no reason covers: an op that
    computes on a request's numbers without a GPU kernel makes a GPU server copy the
    tensors to the CPU and back on every request, which `tests/export` refuses.
    """
    import tensorflow as tf

    if row["kernel"] in (GPU, GPU_HOST_MEMORY):
        return None
    if "string" in row["dtypes"]:
        return "strings live in host memory on every device (check messages, fingerprints)"
    if not hasattr(tf.raw_ops, row["op"]):
        return "custom op (tensorflow-compression's range coder): CPU kernels only"
    if row["op"] == "VarHandleOp" and row["dtypes"] == "dtype=int32":
        # TensorFlow registers no GPU VarHandleOp for int32 (int32 lives in host memory).
        return (
            "int32 variables (the range coder's tables) stay on the CPU, where their readers "
            "are: the CPU range coder, or coding_tables' copy to the client"
        )
    return None


def print_placement(saved_model_dir) -> list[dict]:
    """Prints `placement_table` with a GPU kernel column and the reason for CPU-only rows."""
    import tensorflow as tf

    table = placement_table(saved_model_dir)
    cuda = "yes" if gpu_kernels_registered() else "NO: this build registers no GPU kernels"
    print(f"\nGPU kernels (TensorFlow {tf.__version__}, built with CUDA: {cuda}):")
    print(f"{'GPU kernel':18} {'op':28} {'dtypes':40} signatures / why on CPU")
    for row in table:
        detail = " ".join(row["signatures"])
        if row["kernel"] == GPU_HOST_MEMORY:
            detail += f"  (host memory: {','.join(row['host_memory'])})"
        reason = cpu_reason(row)
        if row["kernel"] in (CPU_ONLY, NOT_REGISTERED):
            detail += f"  WHY: {reason or 'NONE: runs on the CPU of a GPU server'}"
        print(f"{row['kernel']:18} {row['op']:28} {row['dtypes'][:40]:40} {detail}")
    return table


def unregistered_ops(op_types) -> set[str]:
    """The op types stock TensorFlow does not register (custom ops, such as range coding)."""
    from tensorflow.python.framework import op_def_registry

    return {op for op in op_types if op_def_registry.get(op) is None}


def main(argv) -> int:
    """Prints the op types and whether each is stock; 1 if any is not, 2 on bad usage."""
    if len(argv) != 2 or not (pathlib.Path(argv[1]) / "saved_model.pb").is_file():
        print("usage: python -m export.list_ops SAVED_MODEL_DIR (with saved_model.pb)")
        return 2
    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()
    ops = saved_model_op_types(argv[1])
    custom = unregistered_ops(ops)
    if custom:
        try:  # Registers the range coder's kernels, so the GPU column can describe them.
            import tensorflow_compression  # noqa: F401
        except ImportError:
            pass
    print_placement(argv[1])
    print(f"\n{len(ops)} op types in {argv[1]}:")
    print(" ".join(sorted(ops)))
    if custom:
        print(f"NOT stock TensorFlow ops: {' '.join(sorted(custom))}")
        return 1
    print("every op is a stock TensorFlow op")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
