#!/usr/bin/env bash
# Builds the small image the docker runtime's tests run (petrel-test-base:busybox) offline, from Debian's static
# busybox: no registry is needed. Idempotent: does nothing when the image exists.
set -euo pipefail
IMAGE="${PETREL_TEST_IMAGE:-petrel-test-base:busybox}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
BUSYBOX="$(command -v busybox || true)"
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked"; then
  BUSYBOX=/bin/busybox
fi
[ -x "$BUSYBOX" ] || { echo "docker-test-image: busybox-static is not installed" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
echo "docker-test-image: built $IMAGE"
