"""A Python client of Petrel's flyteidl gRPC services, as users who call it from other languages do.

Plain stdlib + grpcio + protobuf (Debian's python3-grpcio and python3-protobuf), with stubs generated from the
repository's proto/ (see generate_stubs.py; into a temporary directory when --stubs is not given). Against a
running server it registers a project, an `echo` task (Petrel's built-in plugin: outputs = inputs), a workflow
with an approve gate and a launch plan; executes it with inputs, waits for the gate, approves it, waits for
SUCCEEDED and reads the outputs; runs five more executions and pages through them two at a time following the
token; and checks that GetExecution of a missing execution gives NOT_FOUND with FlyteAdmin's message.

Prints one JSON object with what it saw and exits 0, or prints the failure to stderr and exits 1.
The scenario's steps are in polyglot_scenario.py, the messages it sends in polyglot_messages.py, and the
channel, failures and polling in polyglot_rpc.py.

    python3 test/python/polyglot_client.py --endpoint 127.0.0.1:8089
    PETREL_TEST_ENDPOINT=127.0.0.1:8089 python3 test/python/polyglot_client.py
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid

# Before the sibling imports below: no __pycache__ in the checkout, nor in a shared stubs directory.
sys.dont_write_bytecode = True

from polyglot_rpc import CheckFailed, Petrel, check, load_stubs  # noqa: E402
from polyglot_scenario import missing_execution, page_executions, register, run_gated, run_plain  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    endpoint, token = os.environ.get("PETREL_TEST_ENDPOINT"), os.environ.get("PETREL_TOKEN")
    parser.add_argument("--endpoint", default=endpoint, help="host:port of the gRPC port")
    parser.add_argument("--stubs", help="generated stubs (default: generate into a temp dir)")
    parser.add_argument("--project", help="a new project to register and use (a unique one by default)")
    parser.add_argument("--token", default=token, help="a bearer token, when auth is on")
    parser.add_argument("--ca-file", help="a CA certificate: connect with TLS")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each execution")
    args = parser.parse_args()
    if not args.endpoint:
        parser.error("--endpoint (or PETREL_TEST_ENDPOINT) is required")
    return args


def run(args, stubs_dir):
    pb = load_stubs(stubs_dir)
    project = args.project or "pypolyglot-" + uuid.uuid4().hex[:10]
    petrel = Petrel(pb, args)
    try:
        launch_plans = register(petrel, project)
        gated = run_gated(petrel, launch_plans["gated"], project, args.timeout)
        plain = run_plain(petrel, launch_plans["plain"], project, 5, args.timeout)
        pages = page_executions(petrel, project, 2)
        listed = [name for page in pages for name in page["names"]]
        created = [gated["name"]] + [p["name"] for p in plain]
        check(sorted(listed) == sorted(created), "paging listed %s, created %s" % (listed, created))
        return {
            "ok": True,
            "endpoint": args.endpoint,
            "project": project,
            "launchPlans": sorted(launch_plans),
            "gated": gated,
            "plain": plain,
            "pages": pages,
            "notFound": missing_execution(petrel, project),
        }
    finally:
        petrel.close()


def main():
    args = parse_args()
    stubs_dir = args.stubs
    if stubs_dir is None:
        sys.path.insert(0, HERE)
        import generate_stubs

        stubs_dir = generate_stubs.generate(tempfile.mkdtemp(prefix="petrel-py-stubs-"))
    try:
        result = run(args, stubs_dir)
    except CheckFailed as err:
        print("polyglot_client: %s" % err, file=sys.stderr)
        sys.exit(1)
    finally:
        if args.stubs is None:
            shutil.rmtree(stubs_dir, ignore_errors=True)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
