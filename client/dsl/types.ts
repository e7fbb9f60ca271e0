// The DSL's types: each `t.*` pairs a Flyte LiteralType with the TypeScript type of its values, so task
// functions, workflow bodies and execute() inputs are checked by the compiler and converted by the type engine.
import { create, type JsonObject } from "@bufbuild/protobuf";
import type { Literal } from "../../gen/flyteidl/core/literals_pb.js";
import {
  BlobType_BlobDimensionality,
  type LiteralType,
  LiteralTypeSchema,
  SimpleType,
} from "../../gen/flyteidl/core/types_pb.js";
import { fromLiteral, toLiteral } from "../type-engine.js";

/** A Flyte type whose values are `T` in TypeScript. */
export interface Type<T> {
  readonly literalType: LiteralType;
  /** Human-readable, used in error messages. */
  readonly description: string;
  /** Phantom field carrying `T`; never set. */
  readonly __value?: T;
}

/** The TypeScript value type of a `Type`. */
export type ValueOf<X> = X extends Type<infer T> ? T : never;

/** A record of named types: a task's or workflow's inputs or outputs. */
export type TypeMap = Readonly<Record<string, Type<unknown>>>;

/** The TypeScript values of a record of types. */
export type ValuesOf<M extends TypeMap> = { [K in keyof M]: ValueOf<M[K]> };

const make = <T>(literalType: LiteralType, description: string): Type<T> => ({ literalType, description });
const lt = (type: LiteralType["type"]) => create(LiteralTypeSchema, { type });
const simple = <T>(s: SimpleType, description: string) =>
  make<T>(lt({ case: "simple", value: s }), description);
const blob = (dimensionality: BlobType_BlobDimensionality, description: string) =>
  make<string>(
    lt({ case: "blob", value: { $typeName: "flyteidl.core.BlobType", format: "", dimensionality } }),
    description,
  );

export const t = {
  int: simple<number>(SimpleType.INTEGER, "int"),
  float: simple<number>(SimpleType.FLOAT, "float"),
  string: simple<string>(SimpleType.STRING, "string"),
  bool: simple<boolean>(SimpleType.BOOLEAN, "bool"),
  datetime: simple<Date>(SimpleType.DATETIME, "datetime"),
  /** Durations are milliseconds. */
  duration: simple<number>(SimpleType.DURATION, "duration"),
  binary: simple<Uint8Array>(SimpleType.BINARY, "binary"),
  /** JSON objects (Flyte's generic struct). */
  struct: simple<JsonObject>(SimpleType.STRUCT, "struct"),
  /** A single file: a local path (uploaded when sent) or a URI; task functions get a local path. */
  file: blob(BlobType_BlobDimensionality.SINGLE, "file"),
  /** A directory (multipart blob): a local path (uploaded when sent) or a URI; task functions get a local path. */
  directory: blob(BlobType_BlobDimensionality.MULTIPART, "directory"),
  list<T>(item: Type<T>): Type<T[]> {
    return make(lt({ case: "collectionType", value: item.literalType }), `list<${item.description}>`);
  },
  map<T>(value: Type<T>): Type<Record<string, T>> {
    return make(lt({ case: "mapValueType", value: value.literalType }), `map<${value.description}>`);
  },
  enum<const V extends readonly string[]>(values: V): Type<V[number]> {
    if (values.length === 0) throw new TypeError("t.enum needs at least one value");
    return make(
      lt({ case: "enumType", value: { $typeName: "flyteidl.core.EnumType", values: [...values] } }),
      `enum<${values.join("|")}>`,
    );
  },
  /** `T` or null (a union of `T` and none, as flytekit writes Optional[T]). */
  optional<T>(inner: Type<T>): Type<T | null> {
    return t.union(inner, simple<null>(SimpleType.NONE, "none"));
  },
  union<const Ts extends readonly Type<unknown>[]>(...variants: Ts): Type<ValueOf<Ts[number]>> {
    if (variants.length < 2) throw new TypeError("t.union needs at least two types");
    return make(
      lt({
        case: "unionType",
        value: {
          $typeName: "flyteidl.core.UnionType",
          variants: variants.map((v) =>
            create(LiteralTypeSchema, {
              ...v.literalType,
              structure: { $typeName: "flyteidl.core.TypeStructure", tag: v.description, dataclassType: {} },
            }),
          ),
        },
      }),
      variants.map((v) => v.description).join(" | "),
    );
  },
} as const;

/** A value as a literal of the type (throws TypeMismatchError naming `where`). */
export function literalOf<T>(type: Type<T>, value: T, where = "value"): Literal {
  return toLiteral(value, type.literalType, where);
}

/** A literal as a value of the type. */
export function valueFrom<T>(_type: Type<T>, literal: Literal): T {
  return fromLiteral(literal) as T;
}
