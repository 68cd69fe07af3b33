#!/bin/sh
echo "remote_coverage_tools is an offline stub (third_party/bazel_stubs): bazel coverage is not supported" >&2
exit 1
