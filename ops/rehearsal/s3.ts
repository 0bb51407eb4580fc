// The rehearsal's S3 endpoint: s3rver (a dev dependency) over TLS, compiled
// into the S3 stand-in image by lib/images.sh. Host-style requests
// (BUCKET.s3.rehearsal, as pgBackRest sends them) and path-style ones
// (s3.rehearsal/BUCKET, as `minitwit backup` sends them) reach the same
// bucket because the service endpoint is "rehearsal".
//
// Env: S3_BUCKET (created at start), TLS_KEY_FILE, TLS_CERT_FILE. s3rver
// accepts the fixed key pair S3RVER / S3RVER, which the rehearsal stores in
// the stack's S3 secrets.
import { readFileSync } from "node:fs";
import S3rver from "s3rver";
// Read-after-write, as real S3: without it pgBackRest's first backup read a
// short backup.info back and failed with "cipher header missing".
import "../../tests/support/s3-read-after-write";

const bucket = process.env.S3_BUCKET ?? "minitwit-backups";
const server = new S3rver({
  address: "0.0.0.0",
  port: 443,
  directory: "/data",
  serviceEndpoint: "rehearsal",
  silent: true,
  key: readFileSync(process.env.TLS_KEY_FILE ?? "/run/secrets/s3_tls_key"),
  cert: readFileSync(process.env.TLS_CERT_FILE ?? "/etc/s3/tls.crt"),
  configureBuckets: [{ name: bucket, configs: [] }],
});
const { port } = await server.run();
console.log(JSON.stringify({ msg: "s3rver listening", port, bucket }));
