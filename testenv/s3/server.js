// The S3 API server of Stepline's tests: @20minutes/s3rver (a fork of s3rver that verifies
// AWS Signature Version 4; s3rver 3.7.1 accepts any V4 signature of a known key), on a loopback
// address, with the access key the tests choose instead of s3rver's built-in S3RVER/S3RVER.
//
//   node server.js --dir DATA --port-file FILE [--port N] [--bucket NAME]... [--service-endpoint H]
//
// Environment: STEPLINE_S3_ACCESS_KEY_ID, STEPLINE_S3_SECRET_ACCESS_KEY (required).
// Writes the port it listens on to --port-file once it accepts connections. SIGTERM stops it.
'use strict';

const fs = require('fs');
const path = require('path');
const S3rver = require('@20minutes/s3rver');
const AWSAccount = require('@20minutes/s3rver/lib/models/account');

function parseArgs(argv) {
  const args = { port: 0, buckets: [], serviceEndpoint: 'amazonaws.com' };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--dir': args.dir = value(); break;
      case '--port': args.port = Number(value()); break;
      case '--port-file': args.portFile = value(); break;
      case '--bucket': args.buckets.push(value()); break;
      case '--service-endpoint': args.serviceEndpoint = value(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.dir || !args.portFile) throw new Error('--dir and --port-file are required');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const keyId = process.env.STEPLINE_S3_ACCESS_KEY_ID;
  const secret = process.env.STEPLINE_S3_SECRET_ACCESS_KEY;
  if (!keyId || !secret) {
    throw new Error('STEPLINE_S3_ACCESS_KEY_ID and STEPLINE_S3_SECRET_ACCESS_KEY must be set');
  }
  // Only the tests' key is known: requests signed with S3RVER/S3RVER are refused.
  AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, secret);

  fs.mkdirSync(args.dir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: args.port,
    directory: args.dir,
    silent: false,
    serviceEndpoint: args.serviceEndpoint,
    configureBuckets: args.buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  const tmp = `${args.portFile}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, args.portFile);
  const stop = () => server.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`stepline test s3 server: ${err.message}\n`);
  process.exit(1);
});
