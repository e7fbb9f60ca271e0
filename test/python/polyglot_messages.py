"""The polyglot client's flyteidl messages, built as flytekit would build them; `pb` is load_stubs' namespace."""

DOMAIN = "development"
VERSION = "v1"


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
