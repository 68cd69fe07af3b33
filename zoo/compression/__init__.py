"""The compression task: the YOTO image codec, its `.yoto` file format, serving and binaries."""
