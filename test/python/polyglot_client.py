"""A Python client of Petrel's flyteidl gRPC services, as users who call it from other languages do.

Plain stdlib + grpcio + protobuf (Debian's python3-grpcio and python3-protobuf), with stubs generated from the
repository's proto/ (see generate_stubs.py; into a temporary directory when --stubs is not given). Against a
running server it registers a project, an `echo` task (Petrel's built-in plugin: outputs = inputs), a workflow
with an approve gate and a launch plan; executes it with inputs, waits for the gate, approves it, waits for
SUCCEEDED and reads the outputs; runs five more executions and pages through them two at a time following the
token; and checks that GetExecution of a missing execution gives NOT_FOUND with FlyteAdmin's message.

Prints one JSON object with what it saw and exits 0, or prints the failure to stderr and exits 1.

    python3 test/python/polyglot_client.py --endpoint 127.0.0.1:8089
    PETREL_TEST_ENDPOINT=127.0.0.1:8089 python3 test/python/polyglot_client.py
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "development"
VERSION = "v1"
TERMINAL = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


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


# --- messages, as flytekit would build them ------------------------------------------------------------


def int_type(pb):
    return pb.types_pb2.LiteralType(simple=pb.types_pb2.INTEGER)


def int_literal(pb, n):
    return pb.literals_pb2.Literal(
        scalar=pb.literals_pb2.Scalar(primitive=pb.literals_pb2.Primitive(integer=n))
    )


def bool_literal(pb, b):
    return pb.literals_pb2.Literal(
        scalar=pb.literals_pb2.Scalar(primitive=pb.literals_pb2.Primitive(boolean=b))
    )


def interface(pb, inputs, outputs):
    def variables(names):
        return pb.interface_pb2.VariableMap(
            variables={n: pb.interface_pb2.Variable(type=int_type(pb), description=n) for n in names}
        )

    return pb.interface_pb2.TypedInterface(inputs=variables(inputs), outputs=variables(outputs))


def identifier(pb, resource_type, project, name):
    return pb.identifier_pb2.Identifier(
        resource_type=resource_type, project=project, domain=DOMAIN, name=name, version=VERSION
    )


def bind(pb, var, node_id, from_var):
    return pb.literals_pb2.Binding(
        var=var,
        binding=pb.literals_pb2.BindingData(
            promise=pb.types_pb2.OutputReference(node_id=node_id, var=from_var)
        ),
    )


def task_node(pb, node_id, task_id, inputs, upstream=()):
    return pb.core_workflow_pb2.Node(
        id=node_id,
        inputs=inputs,
        upstream_node_ids=list(upstream),
        task_node=pb.core_workflow_pb2.TaskNode(reference_id=task_id),
    )


def approve_node(pb, node_id, signal_id, inputs):
    return pb.core_workflow_pb2.Node(
        id=node_id,
        inputs=inputs,
        gate_node=pb.core_workflow_pb2.GateNode(
            approve=pb.core_workflow_pb2.ApproveCondition(signal_id=signal_id)
        ),
    )


def echo_task(pb):
    """An `echo` task (a = a): Petrel's built-in plugin runs it with no process or container."""
    return pb.tasks_pb2.TaskTemplate(
        type="echo",
        metadata=pb.tasks_pb2.TaskMetadata(
            runtime=pb.tasks_pb2.RuntimeMetadata(
                type=pb.tasks_pb2.RuntimeMetadata.FLYTE_SDK, version="1.16.0", flavor="python"
            ),
            retries=pb.literals_pb2.RetryStrategy(retries=0),
        ),
        interface=interface(pb, ["a"], ["a"]),
        container=pb.tasks_pb2.Container(image="python:3.12", command=["pyflyte-execute"]),
    )


def workflow(pb, nodes, output_bindings):
    return pb.core_workflow_pb2.WorkflowTemplate(
        interface=interface(pb, ["x"], ["o"]),
        nodes=nodes,
        outputs=output_bindings,
        metadata=pb.core_workflow_pb2.WorkflowMetadata(),
        metadata_defaults=pb.core_workflow_pb2.WorkflowMetadataDefaults(),
    )


# --- the scenario -------------------------------------------------------------------------------------


def register(petrel, project):
    """The project, the echo task, two workflows (gated and plain) and a launch plan for each."""
    pb, admin = petrel.pb, petrel.admin
    petrel.call(
        admin.RegisterProject,
        pb.project_pb2.ProjectRegisterRequest(project=pb.project_pb2.Project(id=project, name=project)),
    )
    task_id = identifier(pb, pb.identifier_pb2.TASK, project, "echo")
    petrel.call(
        admin.CreateTask,
        pb.task_pb2.TaskCreateRequest(id=task_id, spec=pb.task_pb2.TaskSpec(template=echo_task(pb))),
    )
    workflows = {
        "gated": workflow(
            pb,
            [
                task_node(pb, "before", task_id, [bind(pb, "a", "", "x")]),
                approve_node(pb, "ok", "go", [bind(pb, "a", "before", "a")]),
                task_node(pb, "after", task_id, [bind(pb, "a", "ok", "a")]),
            ],
            [bind(pb, "o", "after", "a")],
        ),
        "plain": workflow(
            pb, [task_node(pb, "only", task_id, [bind(pb, "a", "", "x")])], [bind(pb, "o", "only", "a")]
        ),
    }
    launch_plans = {}
    for name, template in workflows.items():
        workflow_id = identifier(pb, pb.identifier_pb2.WORKFLOW, project, name)
        petrel.call(
            admin.CreateWorkflow,
            pb.workflow_pb2.WorkflowCreateRequest(
                id=workflow_id, spec=pb.workflow_pb2.WorkflowSpec(template=template)
            ),
        )
        launch_plan_id = identifier(pb, pb.identifier_pb2.LAUNCH_PLAN, project, name)
        petrel.call(
            admin.CreateLaunchPlan,
            pb.launch_plan_pb2.LaunchPlanCreateRequest(
                id=launch_plan_id, spec=pb.launch_plan_pb2.LaunchPlanSpec(workflow_id=workflow_id)
            ),
        )
        launch_plans[name] = launch_plan_id
    return launch_plans


def execute(petrel, project, launch_plan_id, name, x):
    pb = petrel.pb
    response = petrel.call(
        petrel.admin.CreateExecution,
        pb.execution_pb2.ExecutionCreateRequest(
            project=project,
            domain=DOMAIN,
            name=name,
            spec=pb.execution_pb2.ExecutionSpec(launch_plan=launch_plan_id),
            inputs=pb.literals_pb2.LiteralMap(literals={"x": int_literal(pb, x)}),
        ),
    )
    check(response.id.name == name, "CreateExecution returned id %s, expected name %s" % (response.id, name))
    return response.id


def phase_name(pb, execution):
    return pb.core_execution_pb2.WorkflowExecution.Phase.Name(execution.closure.phase)


def wait_terminal(petrel, execution_id, timeout):
    pb = petrel.pb
    request = pb.execution_pb2.WorkflowExecutionGetRequest(id=execution_id)
    execution = poll(
        lambda: petrel.call(petrel.admin.GetExecution, request),
        lambda e: phase_name(pb, e) in TERMINAL,
        timeout,
        "execution %s terminal" % execution_id.name,
    )
    return phase_name(pb, execution)


def int_outputs(petrel, execution_id):
    pb = petrel.pb
    request = pb.execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id)
    data = petrel.call(petrel.admin.GetExecutionData, request)
    return {k: v.scalar.primitive.integer for k, v in data.full_outputs.literals.items()}


def run_gated(petrel, launch_plan_id, project, timeout):
    """Executes the gated workflow with x=21, approves its gate once it waits, and reads the outputs."""
    pb = petrel.pb
    execution_id = execute(petrel, project, launch_plan_id, "gated-1", 21)
    list_signals = pb.signal_pb2.SignalListRequest(workflow_execution_id=execution_id, limit=10)
    signals = poll(
        lambda: petrel.call(petrel.signal.ListSignals, list_signals),
        lambda listed: any(s.id.signal_id == "go" for s in listed.signals),
        timeout,
        "gate go waiting",
    )
    gate = next(s for s in signals.signals if s.id.signal_id == "go")
    check(gate.type.simple == pb.types_pb2.BOOLEAN, "the approve gate's signal has type %s" % gate.type)
    check(not gate.HasField("value"), "the gate's signal already has a value: %s" % gate.value)
    get_execution = pb.execution_pb2.WorkflowExecutionGetRequest(id=execution_id)
    running = petrel.call(petrel.admin.GetExecution, get_execution)
    check(phase_name(pb, running) == "RUNNING", "a waiting gate's execution is %s" % phase_name(pb, running))
    petrel.call(
        petrel.signal.SetSignal,
        pb.signal_pb2.SignalSetRequest(
            id=pb.identifier_pb2.SignalIdentifier(signal_id="go", execution_id=execution_id),
            value=bool_literal(pb, True),
        ),
    )
    phase = wait_terminal(petrel, execution_id, timeout)
    outputs = int_outputs(petrel, execution_id)
    check(phase == "SUCCEEDED", "the approved execution ended %s" % phase)
    check(outputs == {"o": 21}, "the approved execution's outputs are %s, not {'o': 21}" % outputs)
    return {
        "name": execution_id.name,
        "signal": "go",
        "signalType": "BOOLEAN",
        "phase": phase,
        "outputs": outputs,
    }


def run_plain(petrel, launch_plan_id, project, count, timeout):
    """Executes the plain workflow count times with x=i and checks that each succeeds with o=i."""
    ids = [execute(petrel, project, launch_plan_id, "plain-%d" % i, i) for i in range(1, count + 1)]
    results = []
    for i, execution_id in enumerate(ids, start=1):
        phase = wait_terminal(petrel, execution_id, timeout)
        outputs = int_outputs(petrel, execution_id)
        check(
            phase == "SUCCEEDED" and outputs == {"o": i},
            "%s ended %s with %s" % (execution_id.name, phase, outputs),
        )
        results.append({"name": execution_id.name, "phase": phase, "outputs": outputs})
    return results


def page_executions(petrel, project, limit):
    """ListExecutions `limit` at a time, oldest first, following the token until it comes back empty."""
    pb = petrel.pb
    pages, token = [], ""
    while True:
        listed = petrel.call(
            petrel.admin.ListExecutions,
            pb.common_pb2.ResourceListRequest(
                id=pb.common_pb2.NamedEntityIdentifier(project=project, domain=DOMAIN),
                limit=limit,
                token=token,
                sort_by=pb.common_pb2.Sort(key="created_at", direction=pb.common_pb2.Sort.ASCENDING),
            ),
        )
        check(len(listed.executions) <= limit, "a page of %d with limit %d" % (len(listed.executions), limit))
        pages.append({"names": [e.id.name for e in listed.executions], "token": listed.token})
        check(len(pages) <= 50, "ListExecutions keeps returning tokens: %s" % pages[-3:])
        if listed.token == "":
            return pages
        token = listed.token


def missing_execution(petrel, project):
    """GetExecution of an execution that does not exist: NOT_FOUND with FlyteAdmin's message."""
    pb = petrel.pb
    missing = pb.identifier_pb2.WorkflowExecutionIdentifier(
        project=project, domain=DOMAIN, name="nosuchexecution"
    )
    try:
        petrel.call(petrel.admin.GetExecution, pb.execution_pb2.WorkflowExecutionGetRequest(id=missing))
    except RpcFailed as err:
        code, message = err.code, err.details
        check(
            code == pb.grpc.StatusCode.NOT_FOUND,
            "GetExecution of a missing execution gave %s: %s" % (code.name, message),
        )
        check(
            message.startswith("missing entity of type execution with identifier")
            and 'name:"nosuchexecution"' in message,
            "GetExecution of a missing execution said %r" % message,
        )
        return {"code": code.name, "message": message}
    raise CheckFailed("GetExecution of a missing execution succeeded")


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
    sys.dont_write_bytecode = True  # no __pycache__ in the checkout, nor in a shared stubs directory
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
