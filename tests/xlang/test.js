'use strict';
// Cross-language check: a Node.js client that knows only proto/ talks to skiff-apiserver.
// Usage: node tests/xlang/test.js HOST:PORT CA.crt CLIENT.crt CLIENT.key
// TLS with a client certificate from the cluster CA; the server certificate is checked for the
// name "kubernetes" (in its SANs whatever address it listens on).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, caFile, certFile, keyFile] = process.argv.slice(2);
if (!target || !caFile || !certFile || !keyFile) {
  console.error('usage: node test.js HOST:PORT CA.crt CLIENT.crt CLIENT.key');
  process.exit(2);
}

const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');
// google/protobuf/*.proto ship with protobufjs (struct and timestamp are built into it).
const GOOGLE_PROTOS = path.dirname(require.resolve('protobufjs/package.json'));
const definition = protoLoader.loadSync('skiff/v1/services.proto', {
  includeDirs: [PROTO_DIR, GOOGLE_PROTOS],
  longs: Number,  // Kubernetes' integers are int64 here; all fit a JS number
  enums: String,
  defaults: true,
  oneofs: true,
});
const v1 = grpc.loadPackageDefinition(definition).skiff.v1;
const ca = fs.readFileSync(caFile);
const credentials = grpc.credentials.createSsl(ca, fs.readFileSync(keyFile), fs.readFileSync(certFile));
const channelOptions = { 'grpc.ssl_target_name_override': 'kubernetes', 'grpc.default_authority': 'kubernetes' };
const pods = new v1.Pods(target, credentials, channelOptions);
const services = new v1.Services(target, credentials, channelOptions);
// TLS without a client certificate: the server must not know who is calling.
const anonymous = new v1.Pods(target, grpc.credentials.createSsl(ca), channelOptions);
after(() => { pods.close(); services.close(); anonymous.close(); });

const suffix = `${process.pid}-${Date.now().toString(36)}`;
const podName = `xlang-${suffix}`;
const serviceName = `xlang-svc-${suffix}`;
const deadline = () => new Date(Date.now() + 10000);

function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline() }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

// Collects a watch stream's events; next(predicate) resolves with the first matching one.
function watch(client, request) {
  const stream = client.Watch(request);
  const seen = [];
  const waiters = [];
  let failure = null;
  const settle = () => {
    for (const w of [...waiters]) {
      const hit = seen.find(w.predicate);
      if (hit || failure) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        hit ? w.resolve(hit) : w.reject(failure);
      }
    }
  };
  stream.on('data', (event) => { seen.push(event); settle(); });
  stream.on('error', (err) => { if (err.code !== grpc.status.CANCELLED) { failure = err; settle(); } });
  return {
    next(predicate, what) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(entry), 1);
          const types = seen.map((e) => `${e.type} ${e.object?.metadata?.name}`).join(', ');
          reject(new Error(`timed out waiting for ${what}; saw: [${types}]`));
        }, 10000);
        const entry = { predicate, resolve, reject, timer };
        waiters.push(entry);
        settle();
      });
    },
    cancel() { stream.cancel(); },
  };
}

function podManifest() {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: 'default', labels: { app: 'xlang', run: suffix } },
    spec: {
      containers: [{
        name: 'web',
        image: 'localhost:5000/whoami:1',
        args: ['--port', '8080'],
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'GREETING', value: 'hello from node' }],
      }],
    },
  };
}

test('pod: create, watch ADDED and MODIFIED, get back, delete', async () => {
  const events = watch(pods, { namespace: 'default', labelSelector: `run=${suffix}` });
  try {
    const created = await call(pods, 'Create', { object: podManifest() });
    assert.equal(created.metadata.name, podName);
    assert.ok(created.metadata.uid, 'the apiserver sets metadata.uid');
    assert.match(created.metadata.resourceVersion, /^[0-9]+$/);
    assert.ok(Number(created.metadata.creationTimestamp.seconds) > 0, 'creationTimestamp is set');

    const added = await events.next((e) => e.type === 'ADDED' && e.object.metadata.name === podName, 'ADDED');
    assert.equal(added.object.metadata.uid, created.metadata.uid);

    const got = await call(pods, 'Get', { namespace: 'default', name: podName });
    const [container] = got.spec.containers;
    assert.equal(container.image, 'localhost:5000/whoami:1');
    assert.deepEqual(container.args, ['--port', '8080']);
    assert.equal(container.ports[0].containerPort, 8080);
    assert.equal(container.ports[0].name, 'http');
    assert.equal(container.env[0].value, 'hello from node');
    assert.equal(got.spec.restartPolicy, 'Always', 'Kubernetes defaults restartPolicy to Always');
    assert.deepEqual(got.metadata.labels, { app: 'xlang', run: suffix });

    got.metadata.labels.tier = 'web';
    const updated = await call(pods, 'Update', { object: got });
    assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);
    const modified = await events.next(
      (e) => e.type === 'MODIFIED' && e.object.metadata.labels.tier === 'web', 'MODIFIED with the new label');
    assert.equal(modified.object.metadata.resourceVersion, updated.metadata.resourceVersion);

    await call(pods, 'Delete', { namespace: 'default', name: podName, gracePeriodSeconds: 0 });
    await events.next((e) => e.type === 'DELETED' && e.object.metadata.name === podName, 'DELETED');
  } finally {
    events.cancel();
  }
});

test('stale update is rejected with ABORTED', async () => {
  const name = `${podName}-stale`;
  const manifest = podManifest();
  manifest.metadata.name = name;
  const created = await call(pods, 'Create', { object: manifest });
  try {
    created.metadata.labels.first = 'yes';
    await call(pods, 'Update', { object: created });
    created.metadata.labels.second = 'yes';
    await assert.rejects(call(pods, 'Update', { object: created }), (err) => err.code === grpc.status.ABORTED);
  } finally {
    await call(pods, 'Delete', { namespace: 'default', name, gracePeriodSeconds: 0 });
  }
});

test('service targetPort round-trips as int and as string', async () => {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName, namespace: 'default' },
    spec: {
      selector: { app: 'xlang' },
      ports: [
        { name: 'by-name', port: 80, targetPort: { stringValue: 'http' } },
        { name: 'by-number', port: 8080, targetPort: { numberValue: 8080 } },
      ],
    },
  };
  await call(services, 'Create', { object: manifest });
  try {
    const got = await call(services, 'Get', { namespace: 'default', name: serviceName });
    const [byName, byNumber] = got.spec.ports;
    assert.equal(byName.targetPort.kind, 'stringValue');
    assert.equal(byName.targetPort.stringValue, 'http');
    assert.equal(byNumber.targetPort.kind, 'numberValue');
    assert.equal(byNumber.targetPort.numberValue, 8080);
    assert.equal(byName.protocol, 'TCP', 'Kubernetes defaults a port protocol to TCP');
    assert.match(got.spec.clusterIp, /^\d+\.\d+\.\d+\.\d+$/);
  } finally {
    await call(services, 'Delete', { namespace: 'default', name: serviceName });
  }
});

test('errors carry gRPC status codes', async () => {
  await assert.rejects(call(pods, 'Get', { namespace: 'default', name: `${podName}-absent` }),
    (err) => err.code === grpc.status.NOT_FOUND);
  const invalid = podManifest();
  invalid.metadata.name = 'Not_A_Valid_Name';
  await assert.rejects(call(pods, 'Create', { object: invalid }),
    (err) => err.code === grpc.status.INVALID_ARGUMENT && /metadata\.name/.test(err.details));
});

test('a caller without credentials is UNAUTHENTICATED', async () => {
  await assert.rejects(call(anonymous, 'List', { namespace: 'default' }),
    (err) => err.code === grpc.status.UNAUTHENTICATED);
});
