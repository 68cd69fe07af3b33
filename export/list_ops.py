"""Prints the op types of every signature of a SavedModel, and flags custom ones.

    .venv/bin/python -m export.list_ops BASE/compression_stock/1

Reads `saved_model.pb` as a protobuf, so it needs neither the model's Python code
nor any custom-op library; exits 1 if an op is not registered in stock TensorFlow.
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
    print(f"{len(ops)} op types in {argv[1]}:")
    print(" ".join(sorted(ops)))
    if custom:
        print(f"NOT stock TensorFlow ops: {' '.join(sorted(custom))}")
        return 1
    print("every op is a stock TensorFlow op")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
