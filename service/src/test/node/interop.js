#!/usr/bin/env node
// Interop check run by NodeClientInteropTest: a real Node producer and consumer
// (kafkajs + @kafkajs/confluent-schema-registry) against hardmine's embedded
// registry and a real Kafka broker.
//
//   node interop.js REGISTRY_URL BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC SCHEMA_FILE BATCHES
//
// 1. registers SCHEMA_FILE (EmbeddingBatch) under INPUT_TOPIC-value,
// 2. encodes BATCHES EmbeddingBatch records with the registry and produces them to
//    INPUT_TOPIC (key = job_id),
// 3. consumes one record from OUTPUT_TOPIC, decodes it with the registry and prints it.
// Each result is one stdout line: "REGISTERED {json}", "PRODUCED {json}", "DECODED {json}".
// Logs go to stderr. Exits 0 on success, 1 on error, 2 after the time limit.
'use strict';

const fs = require('fs');
const { Kafka, logLevel, Partitioners } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const [registryUrl, bootstrap, inputTopic, outputTopic, schemaFile, batchesArg] = process.argv.slice(2);
if (!schemaFile) {
  console.error('usage: interop.js REGISTRY_URL BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC SCHEMA_FILE BATCHES');
  process.exit(1);
}
const batches = Number(batchesArg || 3);
const TIME_LIMIT_MS = 45000;

const timer = setTimeout(() => {
  console.error(`interop.js: no result within ${TIME_LIMIT_MS} ms`);
  process.exit(2);
}, TIME_LIMIT_MS);

function print(kind, value) {
  process.stdout.write(`${kind} ${JSON.stringify(value)}\n`);
}

/** dim float32 values, little-endian: what numpy's astype('<f4').tobytes() gives. */
function float32le(values) {
  const buffer = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => buffer.writeFloatLE(v, 4 * i));
  return buffer;
}

/** Batch i, with values the Java test recomputes. */
function batch(i) {
  return {
    job_id: 'job-node',
    worker_id: 'node-worker',
    batch_id: `node-batch-${i}`,
    step: 100 + i,
    model_version: 'node-v1',
    produced_at: 1700000000000 + i,
    dim: 3,
    samples: [
      { sample_id: `n${i}-a`, label: 'cat', embedding: float32le([i + 0.5, -1.25, 2.0]) },
      { sample_id: `n${i}-b`, label: 'dog', embedding: float32le([0.125, i, -3.5]) },
    ],
  };
}

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl });
  // JSON.stringify without spaces, the way Node clients usually send schemas.
  const schema = JSON.stringify(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
  const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject: `${inputTopic}-value` });
  print('REGISTERED', { id, subject: `${inputTopic}-value` });

  const kafka = new Kafka({
    clientId: 'hardmine-interop-node',
    brokers: [bootstrap],
    logLevel: logLevel.ERROR,
    logCreator: () => ({ namespace, log }) => console.error(`[kafkajs ${namespace}] ${log.message}`),
  });

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < batches; i++) {
    const value = await registry.encode(id, batch(i));
    messages.push({ key: 'job-node', value });
  }
  await producer.send({ topic: inputTopic, messages });
  await producer.disconnect();
  print('PRODUCED', { count: messages.length });

  const consumer = kafka.consumer({ groupId: `hardmine-interop-node-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: outputTopic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        try {
          const decoded = await registry.decode(message.value);
          print('DECODED', { key: message.key.toString('utf8'), schemaId: message.value.readInt32BE(1), value: decoded });
          resolve();
        } catch (e) {
          reject(e);
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (error) => {
    console.error('interop.js failed:', error && error.stack ? error.stack : error);
    process.exit(1);
  },
);
