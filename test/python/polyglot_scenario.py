"""The polyglot client's scenario, step by step: register, execute, approve a gate, wait, read, page, NOT_FOUND."""

from polyglot_messages import (
    DOMAIN,
    approve_node,
    bind,
    bool_literal,
    echo_task,
    identifier,
    int_literal,
    task_node,
    workflow,
)
from polyglot_rpc import CheckFailed, RpcFailed, check, poll

TERMINAL = ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")


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
