// Compiler findings, formatted the way Flyte's compiler reports them.
export type CompileErrorCode =
  | "CycleDetected"
  | "BranchNodeIdNotFound"
  | "BranchNodeHasNoCondition"
  | "BranchNodeHasNoDefault"
  | "ValueRequired"
  | "InvalidValue"
  | "NodeReferenceNotFound"
  | "TaskReferenceNotFound"
  | "WorkflowReferenceNotFound"
  | "VariableNameNotFound"
  | "DuplicateId"
  | "MismatchingTypes"
  | "MismatchingBindings"
  | "MismatchingInterfaces"
  | "ParameterBoundMoreThanOnce"
  | "ParameterNotBound"
  | "NoEntryNodeFound"
  | "UnreachableNodes"
  | "NoNodesFound"
  | "IllegalEnumValue"
  | "FieldNotFound"
  | "InvalidLiteralType";

export interface CompileError {
  readonly code: CompileErrorCode;
  readonly nodeId: string;
  readonly description: string;
}

export const compileError = (code: CompileErrorCode, nodeId: string, description: string): CompileError => ({
  code,
  nodeId,
  description,
});

export function formatCompileErrors(errors: readonly CompileError[]): string {
  const lines = errors.map(
    (e, i) => `\tError ${i}: Code: ${e.code}, Node Id: ${e.nodeId}, Description: ${e.description}`,
  );
  return `Collected Errors: ${errors.length}\n${lines.join("\n")}\n`;
}
