"""Generates Python protobuf and gRPC stubs for flyteidl from the repository's proto/ into a directory.

Uses Debian's python3-grpc-tools (`python3 -m grpc_tools.protoc`) when it is importable, else protoc
(protobuf-compiler) with the grpc python plugin (protobuf-compiler-grpc). The stubs are never committed.

    python3 test/python/generate_stubs.py OUT_DIR [--proto-root proto]
"""

import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))


def proto_files(proto_root):
    """Every .proto under flyteidl/, relative to proto_root (they import only each other and google/protobuf)."""
    files = []
    for directory, _dirs, names in os.walk(os.path.join(proto_root, "flyteidl")):
        for name in names:
            if name.endswith(".proto"):
                files.append(os.path.relpath(os.path.join(directory, name), proto_root))
    return sorted(files)


def protoc_command(proto_root, out_dir):
    """The generator as an argv prefix: grpc_tools when importable, else protoc with the grpc plugin."""
    try:
        import grpc_tools  # noqa: F401  (only probing for it)

        well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        command = [sys.executable, "-m", "grpc_tools.protoc"]
        if os.path.isdir(well_known):
            command.append("-I" + well_known)
    except ImportError:
        protoc = shutil.which("protoc")
        plugin = shutil.which("grpc_python_plugin")
        if protoc is None or plugin is None:
            raise SystemExit(
                "generate_stubs: neither grpc_tools (python3-grpc-tools) nor protoc with grpc_python_plugin "
                "(protobuf-compiler, protobuf-compiler-grpc) is installed; run scripts/ci-python.sh"
            )
        command = [protoc, "--plugin=protoc-gen-grpc_python=" + plugin]
    return command + ["-I" + proto_root, "--python_out=" + out_dir, "--grpc_python_out=" + out_dir]


def generate(out_dir, proto_root=DEFAULT_PROTO_ROOT):
    """Writes the stubs for proto_root's flyteidl protos into out_dir (created when missing)."""
    os.makedirs(out_dir, exist_ok=True)
    command = protoc_command(proto_root, out_dir) + proto_files(proto_root)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("generate_stubs: %s failed:\n%s" % (command[0], result.stderr))
    return out_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--proto-root", default=DEFAULT_PROTO_ROOT)
    args = parser.parse_args()
    generate(args.out_dir, args.proto_root)


if __name__ == "__main__":
    main()
