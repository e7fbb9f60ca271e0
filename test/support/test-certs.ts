// A throwaway CA and server certificates (for 127.0.0.1 and localhost), made with openssl at test time.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  /** Writes a new server certificate and key signed by the CA; returns their paths. */
  issue(name: string): { cert: string; key: string };
  remove(): void;
}

const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: "pipe" });

export function createTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petrel-certs-"));
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"].concat([
      "-days",
      "2",
      "-subj",
      "/CN=Petrel Test CA",
    ]),
    dir,
  );
  fs.writeFileSync(
    path.join(dir, "san.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  return {
    dir,
    caFile: path.join(dir, "ca.pem"),
    issue(name) {
      openssl(
        [
          "req",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          `${name}.key`,
          "-out",
          `${name}.csr`,
          "-subj",
          `/CN=${name}`,
        ],
        dir,
      );
      openssl(
        ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat(
          ["-out", `${name}.pem`, "-days", "2", "-extfile", "san.ext"],
        ),
        dir,
      );
      return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
