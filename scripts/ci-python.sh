#!/usr/bin/env bash
# CI's Python for the polyglot client test (test/integration/python-client.test.ts): Debian's python3-grpcio and
# python3-protobuf, and a stub generator — python3-grpc-tools, or where that package is not available protoc
# (protobuf-compiler), the grpc python plugin (protobuf-compiler-grpc) and the well-known types' .proto files
# (libprotobuf-dev, only recommended by protobuf-compiler). Installed with apt-get only when missing (never from PyPI);
# idempotent, seconds when all is there already.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PY=/usr/bin/python3 # Debian's interpreter: the one that sees Debian's python3-* packages
has() { [ -x "$PY" ] && "$PY" -c "import $1" >/dev/null 2>&1; }
protoc_ok() {
  command -v protoc >/dev/null 2>&1 && command -v grpc_python_plugin >/dev/null 2>&1 &&
    [ -e /usr/include/google/protobuf/timestamp.proto ]
}
generator_ok() { has grpc_tools || protoc_ok; }
missing=()
[ -x "$PY" ] || missing+=(python3)
has grpc || missing+=(python3-grpcio)
has google.protobuf || missing+=(python3-protobuf)
if [ "${#missing[@]}" -eq 0 ] && generator_ok; then exit 0; fi
$SUDO apt-get update -qq
if ! generator_ok; then
  if apt-cache show python3-grpc-tools >/dev/null 2>&1; then
    missing+=(python3-grpc-tools)
  else
    missing+=(protobuf-compiler protobuf-compiler-grpc libprotobuf-dev)
  fi
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
has grpc && has google.protobuf && generator_ok || {
  echo "ci-python: python3 grpc/protobuf or a stub generator still missing after installing ${missing[*]}" >&2
  exit 1
}
