"""Qt resource (.rcc) files written by hand from the format, for the reader's tests."""

import struct
import zlib

ZLIB, DIRECTORY, ZSTD = 0x01, 0x02, 0x04


def build_rcc(files: dict[str, tuple[bytes, int]], version: int = 3) -> bytes:
    """An rcc holding `files` (resource path -> (bytes, flags)), laid out as Qt's rcc does:
    header, then the data, names and tree sections, the tree's nodes breadth first with each
    directory's children contiguous."""
    root: dict = {}
    for path, content in files.items():
        *folders, leaf = path.strip("/").split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = content

    names, name_offsets = bytearray(), {}

    def name_offset(name):
        if name not in name_offsets:
            name_offsets[name] = len(names)
            encoded = name.encode("utf-16-be")
            names.extend(struct.pack(">HI", len(encoded) // 2, 0) + encoded)
        return name_offsets[name]

    data = bytearray()
    # Breadth first: (name, subtree or file content), each directory's children in a row.
    order = [("", root)]
    first_child = {}
    index = 0
    while index < len(order):
        _, item = order[index]
        if isinstance(item, dict):
            first_child[index] = len(order)
            order.extend(sorted(item.items()))
        index += 1
    tree = bytearray()
    for index, (name, item) in enumerate(order):
        offset = name_offset(name) if index else 0
        if isinstance(item, dict):
            tree += struct.pack(">IHII", offset, DIRECTORY, len(item), first_child[index])
        else:
            content, flags = item
            if flags & ZLIB:
                content = struct.pack(">I", len(content)) + zlib.compress(content)
            tree += struct.pack(">IHHHI", offset, flags, 0, 0, len(data))
            data += struct.pack(">I", len(content)) + content
        if version >= 2:
            tree += struct.pack(">Q", 1_700_000_000_000)
    header_size = 24 if version >= 3 else 20
    data_offset = header_size
    names_offset = data_offset + len(data)
    tree_offset = names_offset + len(names)
    header = b"qres" + struct.pack(">4I", version, tree_offset, data_offset, names_offset)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + bytes(data) + bytes(names) + bytes(tree)
