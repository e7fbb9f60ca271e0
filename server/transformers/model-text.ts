// A protobuf text-format rendering of a message, used where Flyte's messages embed "model text" (`%+v`).
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";

function scalarText(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString("latin1"));
  return String(v);
}

function render(msg: ReflectMessage): string {
  const parts: string[] = [];
  for (const field of msg.fields) {
    if (!msg.isSet(field)) continue;
    const name = field.name;
    switch (field.fieldKind) {
      case "scalar":
        parts.push(`${name}:${scalarText(msg.get(field))}`);
        break;
      case "enum": {
        const n = msg.get(field) as number;
        parts.push(`${name}:${field.enum.values.find((v) => v.number === n)?.name ?? n}`);
        break;
      }
      case "message":
        parts.push(`${name}:{${render(msg.get(field) as ReflectMessage)}}`);
        break;
      case "list":
        parts.push(
          `${name}:[${[...(msg.get(field) as Iterable<unknown>)].map((v) => (typeof v === "object" && v !== null && "fields" in v ? `{${render(v as ReflectMessage)}}` : scalarText(v))).join(" ")}]`,
        );
        break;
      case "map":
        parts.push(`${name}:{...}`);
        break;
    }
  }
  return parts.join(" ");
}

export function modelText<Desc extends DescMessage>(desc: Desc, msg: MessageShape<Desc>): string {
  return render(reflect(desc, msg));
}
