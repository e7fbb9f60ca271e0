// The grpc-message trailer as the gRPC spec encodes it: printable ASCII (0x20–0x7E) as is except '%', every other
// UTF-8 byte percent-encoded. Connect's encodeURIComponent also encodes ':', ',', '/', ';', '+'…, which grpc-js
// (decodeURI) leaves encoded for its users. Messages are cut so the encoded trailer stays small: clients cap the
// metadata they accept (flytekit: 32 KiB), and an oversized header block breaks the HTTP/2 connection.

/** The longest encoded grpc-message Petrel sends. */
export const MAX_ENCODED_MESSAGE = 30_000;

const encodedByte = (b: number) =>
  b >= 0x20 && b <= 0x7e && b !== 0x25
    ? String.fromCharCode(b)
    : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;

export function encodeGrpcMessage(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) out += encodedByte(b);
  return out;
}

/** `text`, or its longest prefix (whole characters) whose encoding fits `max`. */
export function fitGrpcMessage(text: string, max = MAX_ENCODED_MESSAGE): string {
  let size = 0;
  let end = 0;
  for (const ch of text) {
    let chSize = 0;
    for (const b of Buffer.from(ch, "utf8")) chSize += b >= 0x20 && b <= 0x7e && b !== 0x25 ? 1 : 3;
    if (size + chSize > max) return text.slice(0, end);
    size += chSize;
    end += ch.length;
  }
  return text;
}
