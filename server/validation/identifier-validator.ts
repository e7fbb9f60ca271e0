// Identifier rules shared by every registration and lookup rpc (Flyte checks fields in this order).
import { type Identifier, IdentifierSchema, ResourceType } from "../../gen/flyteidl/core/identifier_pb.js";
import { invalidArgument, missingField } from "../errors.js";
import { modelText } from "../transformers/model-text.js";

export const resourceTypeName = (t: ResourceType): string => (ResourceType[t] ?? String(t)).toLowerCase();

export function idText(id: Identifier): string {
  return modelText(IdentifierSchema, id);
}

/** What FlyteAdmin's columns hold (varchar(255)) for a name or a version. */
export const MAX_ID_CHARS = 255;
const CONTROL = /\p{Cc}/u;

/** A name or version: at most 255 characters, none of them control characters. */
export function validateIdText(field: string, value: string): void {
  if (value.length > MAX_ID_CHARS && [...value].length > MAX_ID_CHARS)
    throw invalidArgument(`${field} cannot exceed ${MAX_ID_CHARS} characters`);
  if (CONTROL.test(value)) throw invalidArgument(`${field} must not contain control characters`);
}

/** project, domain, name, version must all be set; name and version within the column limit. */
export function validateIdentifierFields(id: Identifier): void {
  if (id.project === "") throw missingField("project");
  if (id.domain === "") throw missingField("domain");
  if (id.name === "") throw missingField("name");
  if (id.version === "") throw missingField("version");
  validateIdText("name", id.name);
  validateIdText("version", id.version);
}

export function validateIdentifier(
  id: Identifier | undefined,
  expected: ResourceType,
): asserts id is Identifier {
  if (id === undefined) throw missingField("id");
  if (id.resourceType !== expected) {
    throw invalidArgument(
      `unexpected resource type ${resourceTypeName(id.resourceType)} for identifier [${idText(id)}], expected ${resourceTypeName(expected)} instead`,
    );
  }
  validateIdentifierFields(id);
}

/** Get* requests may leave the resource type out; it is filled in before validation. */
export function withResourceType(id: Identifier | undefined, t: ResourceType): Identifier | undefined {
  if (id === undefined || id.resourceType !== ResourceType.UNSPECIFIED) return id;
  return { ...id, resourceType: t };
}
