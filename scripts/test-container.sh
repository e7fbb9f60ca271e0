#!/usr/bin/env bash
# The protocol integration tests against the dockerized server (`npm run test:container`): the image is built offline
# (scripts/docker-server-image.sh), then
#   image:   each file of IMAGE_SUITE against a fresh `docker run` of petrel:test (embedded Postgres; each file gets its
#            own server, as in-process), and
#   compose: COMPOSE_SUITE against `docker compose up` (docker-compose.yml: petrel:test with an external Postgres),
# through PETREL_TEST_ENDPOINT / PETREL_TEST_HTTP_ENDPOINT. Tests that need the in-process server skip themselves.
# Usage: scripts/test-container.sh [image|compose]... (both by default). Without a Docker daemon it says so and
# succeeds, unless PETREL_REQUIRE_DOCKER=true (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE_SUITE=(server projects tasks executions signals)
COMPOSE_SUITE=(server executions)
export PETREL_IMAGE="${PETREL_IMAGE:-petrel:test}"
export PETREL_POSTGRES_IMAGE="${PETREL_CI_POSTGRES_IMAGE:-petrel-ci-postgres:bookworm}"
modes=("$@")
[ "${#modes[@]}" -gt 0 ] || modes=(image compose)

if ! docker version >/dev/null 2>&1; then
  echo "test-container: no Docker daemon: skipped (scripts/ci-docker.sh starts one)" >&2
  [ "${PETREL_REQUIRE_DOCKER:-}" = "true" ] && exit 1
  exit 0
fi
started=$SECONDS
scripts/docker-server-image.sh

containers=()
project="petrel-test-$$"
if command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); else compose=(docker compose); fi
cleanup() {
  [ "${#containers[@]}" -eq 0 ] || docker rm -f "${containers[@]}" >/dev/null 2>&1 || true
  "${compose[@]}" -p "$project" down -v >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
wait_healthy() {
  node -e '
    const url = `http://${process.argv[1]}/healthz`, deadline = Date.now() + 60_000;
    (async function poll() {
      try { if ((await fetch(url)).ok) process.exit(0); } catch {}
      if (Date.now() > deadline) { console.error(`test-container: ${url} not healthy after 60 s`); process.exit(1); }
      setTimeout(poll, 200);
    })();' "$1"
}
# The image carries the built console: /console/ answers its page.
serves_console() {
  # Connection failures are retried for a while (as in wait_healthy: docker's port proxy may drop a connection made
  # just after the container started); any answer but the console's page fails at once.
  node -e '
    const url = `http://${process.argv[1]}/console/`, deadline = Date.now() + 30_000;
    (async function poll() {
      let r;
      try { r = await fetch(url); } catch (e) {
        if (Date.now() > deadline) { console.error(e); process.exit(1); }
        return setTimeout(poll, 200);
      }
      if (r.ok && (await r.text()).includes("<div id=\"root\">")) process.exit(0);
      console.error(`test-container: the image serves no console (${r.status})`);
      process.exit(1);
    })();' "$1"
}
# Runs test files against a server at grpc/http addresses; prints `logs` (a command) when they fail.
run_suite() {
  local grpc="$1" http="$2" logs="$3"
  shift 3
  local files=()
  for f in "$@"; do files+=("test/integration/$f.test.ts"); done
  if ! PETREL_TEST_ENDPOINT="$grpc" PETREL_TEST_HTTP_ENDPOINT="$http" \
    npx vitest run --project integration "${files[@]}"; then
    echo "test-container: failed against $grpc; the server's log:" >&2
    eval "$logs" >&2 || true
    return 1
  fi
}

test_image() {
  for f in "${IMAGE_SUITE[@]}"; do
    local port cid
    port="$(free_port)"
    # The HTTP port is published on a port chosen here so that the log links (PETREL_PUBLIC_URL) work from the host.
    cid="$(docker run -d -p 127.0.0.1:0:8089 -p "127.0.0.1:$port:8088" -e PETREL_INSECURE_LISTEN_ANY=true \
      -e PETREL_PUBLIC_URL="http://127.0.0.1:$port" "$PETREL_IMAGE")"
    containers+=("$cid")
    wait_healthy "127.0.0.1:$port" || { docker logs "$cid" >&2; return 1; }
    serves_console "127.0.0.1:$port" || { docker logs "$cid" >&2; return 1; }
    run_suite "$(docker port "$cid" 8089/tcp | head -1)" "127.0.0.1:$port" "docker logs $cid" "$f"
    docker rm -f "$cid" >/dev/null
  done
}

test_compose() {
  local port
  port="$(free_port)"
  PETREL_HTTP_PUBLISH="$port" PETREL_GRPC_PUBLISH="" PETREL_PUBLIC_URL="http://127.0.0.1:$port" \
    "${compose[@]}" -p "$project" up -d >/dev/null 2>&1 || { "${compose[@]}" -p "$project" logs >&2; return 1; }
  wait_healthy "127.0.0.1:$port" || { "${compose[@]}" -p "$project" logs >&2; return 1; }
  run_suite "$("${compose[@]}" -p "$project" port petrel 8089)" "127.0.0.1:$port" \
    "${compose[*]} -p $project logs --no-color" "${COMPOSE_SUITE[@]}"
  "${compose[@]}" -p "$project" down -v >/dev/null 2>&1
}

for mode in "${modes[@]}"; do
  phase=$SECONDS
  case "$mode" in
    image) test_image ;;
    compose) test_compose ;;
    *) echo "test-container: unknown suite '$mode' (image, compose)" >&2; exit 2 ;;
  esac
  echo "test-container: $mode passed ($((SECONDS - phase)) s)"
done
echo "test-container: done ($((SECONDS - started)) s)"
