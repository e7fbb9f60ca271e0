"""The polyglot client's plumbing: its failures, the generated stubs, one channel to Petrel, and polling."""

import argparse
import sys
import time


class CheckFailed(Exception):
    """The server answered, but not as Flyte would."""


class RpcFailed(CheckFailed):
    """A call the scenario expected to succeed failed with a gRPC status."""

    def __init__(self, request, code, details):
        super().__init__("%s failed: %s: %s" % (type(request).__name__, code.name, details))
        self.code = code
        self.details = details


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def load_stubs(stubs_dir):
    """Imports grpc and the generated modules (after putting stubs_dir on the path) as one namespace."""
    sys.path.insert(0, stubs_dir)
    import grpc
    from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, project_pb2, signal_pb2
    from flyteidl.admin import task_pb2, workflow_pb2
    from flyteidl.core import execution_pb2 as core_execution_pb2
    from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2
    from flyteidl.service import admin_pb2_grpc, signal_pb2_grpc

    return argparse.Namespace(**locals())


class Petrel:
    """The two services' stubs over one channel, with the call options every call shares."""

    def __init__(self, pb, args):
        self.pb = pb
        if args.ca_file:
            with open(args.ca_file, "rb") as f:
                channel = pb.grpc.secure_channel(args.endpoint, pb.grpc.ssl_channel_credentials(f.read()))
        else:
            channel = pb.grpc.insecure_channel(args.endpoint)
        self.channel = channel
        self.admin = pb.admin_pb2_grpc.AdminServiceStub(channel)
        self.signal = pb.signal_pb2_grpc.SignalServiceStub(channel)
        self.metadata = [("authorization", "Bearer " + args.token)] if args.token else None

    def call(self, method, request):
        try:
            return method(request, timeout=10, metadata=self.metadata)
        except self.pb.grpc.RpcError as err:
            raise RpcFailed(request, err.code(), err.details()) from err

    def close(self):
        self.channel.close()


def poll(fetch, done, timeout, what):
    """Calls fetch until done(value) holds; fails after timeout seconds with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise CheckFailed("%s: not reached within %ss; last: %s" % (what, timeout, value))
        time.sleep(0.05)
