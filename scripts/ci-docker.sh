#!/usr/bin/env bash
# CI's Docker: Debian's docker.io, busybox-static, debootstrap and docker-compose installed if missing, dockerd
# started if no daemon answers, and the docker runtime tests' image (petrel-test-base:busybox) built offline if absent.
# Idempotent; seconds when all is there already.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q "statically linked" || missing+=(busybox-static)
command -v file >/dev/null 2>&1 || missing+=(file)
# The server image's tests: debootstrap for the offline base image, Compose for docker-compose.yml.
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! docker version >/dev/null 2>&1; then
  $SUDO sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker version >/dev/null 2>&1 || { echo "ci-docker: dockerd did not start (see /tmp/dockerd.log)" >&2; exit 1; }
fi
"$(dirname "$0")/docker-test-image.sh"
