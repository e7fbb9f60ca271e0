// The two blob stores the data-plane suites run against: the local one (the default) and an S3-compatible server
// started for the suite, its credentials given through the AWS SDK's own variables as a deployment gives them.
import { type S3TestServer, startS3TestServer } from "./s3-test-server.js";

export interface StoreSubject {
  readonly name: "local" | "S3";
  /** The scheme of the store's URIs. */
  readonly scheme: "file" | "s3";
  /** The S3 server, once env() started it. */
  readonly s3: S3TestServer | undefined;
  /** The server's environment for this store. */
  env(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export function storeSubjects(): StoreSubject[] {
  let s3: S3TestServer | undefined;
  return [
    { name: "local", scheme: "file", s3: undefined, env: async () => ({}), stop: async () => undefined },
    {
      name: "S3",
      scheme: "s3",
      get s3() {
        return s3;
      },
      async env() {
        s3 = await startS3TestServer();
        process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
        return {
          PETREL_STORAGE_URL: `s3://${s3.bucket}/petrel`,
          PETREL_STORAGE_ENDPOINT: s3.endpoint,
          PETREL_STORAGE_REGION: s3.region,
        };
      },
      stop: async () => s3?.stop(),
    },
  ];
}
