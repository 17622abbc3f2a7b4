#!/usr/bin/python3
"""Interop check run by PythonClientInteropTest: Debian's confluent_kafka (registry
client, producer, consumer) and python3-avro against hardmine's embedded registry
and a real Kafka broker.

    /usr/bin/python3 interop.py REGISTRY_URL BOOTSTRAP INPUT_TOPIC OUTPUT_TOPIC SCHEMA_FILE BATCHES

1. registers SCHEMA_FILE (EmbeddingBatch) under INPUT_TOPIC-value with
   SchemaRegistryClient, looks it up and fetches it back by id;
2. encodes BATCHES EmbeddingBatch records with python3-avro (Debian has no fastavro,
   which confluent_kafka's AvroSerializer needs), frames them by hand in Confluent's
   wire format and produces them to INPUT_TOPIC (key = job_id);
3. reads one record from OUTPUT_TOPIC, fetches its writer schema by id and decodes it.
Each result is one stdout line: "REGISTERED {json}", "PRODUCED {json}", "DECODED {json}".
Exits 0 on success, 1 on error, 2 after the time limit.
"""
import datetime
import io
import json
import struct
import sys
import time

import avro.io
import avro.schema
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

TIME_LIMIT_S = 45
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def emit(kind, value):
    print(kind, json.dumps(value, sort_keys=True), flush=True)


def float32le(values):
    """dim float32 values, little-endian: numpy's astype('<f4').tobytes()."""
    return struct.pack('<%df' % len(values), *values)


def batch(i):
    """Batch i, with values the Java test recomputes."""
    return {
        'job_id': 'job-python',
        'worker_id': 'python-worker',
        'batch_id': 'py-batch-%d' % i,
        'step': 200 + i,
        'model_version': 'py-v1',
        # timestamp-millis: python3-avro takes an aware datetime
        'produced_at': EPOCH + datetime.timedelta(milliseconds=1700000001000 + i),
        'dim': 2,
        'samples': [
            {'sample_id': 'p%d-a' % i, 'label': 'owl', 'embedding': float32le([i + 0.25, -0.5])},
            {'sample_id': 'p%d-b' % i, 'label': 'fox', 'embedding': float32le([1.5, -i])},
        ],
    }


def encode(schema, schema_id, record):
    out = io.BytesIO()
    out.write(struct.pack('>bI', 0, schema_id))
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
    return out.getvalue()


def plain(value):
    """JSON-friendly copy of a decoded record: datetimes back to epoch milliseconds."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    return value


def main(registry_url, bootstrap, input_topic, output_topic, schema_file, batches):
    deadline = time.monotonic() + TIME_LIMIT_S
    registry = SchemaRegistryClient({'url': registry_url})
    subject = input_topic + '-value'
    with open(schema_file, encoding='utf-8') as f:
        schema_str = json.dumps(json.load(f))  # json.dumps puts spaces after ':' and ','
    schema_id = registry.register_schema(subject, Schema(schema_str, 'AVRO'))
    looked_up = registry.lookup_schema(subject, Schema(schema_str, 'AVRO'))
    fetched = registry.get_schema(schema_id)
    latest = registry.get_latest_version(subject)
    emit('REGISTERED', {'id': schema_id, 'subject': subject, 'lookup_id': looked_up.schema_id,
                        'lookup_version': looked_up.version, 'latest_id': latest.schema_id,
                        'fetched_name': json.loads(fetched.schema_str)['name']})

    writer_schema = avro.schema.parse(fetched.schema_str)
    errors = []
    producer = Producer({'bootstrap.servers': bootstrap, 'client.id': 'hardmine-interop-python'})
    for i in range(batches):
        record = batch(i)
        producer.produce(input_topic, key=record['job_id'].encode('utf-8'), value=encode(writer_schema, schema_id, record),
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
    remaining = producer.flush(max(1.0, deadline - time.monotonic()))
    if remaining or errors:
        raise RuntimeError('produce failed: %d undelivered, errors %s' % (remaining, errors))
    emit('PRODUCED', {'count': batches})

    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'hardmine-interop-python',
                         'enable.auto.commit': False, 'client.id': 'hardmine-interop-python'})
    consumer.assign([TopicPartition(output_topic, 0, OFFSET_BEGINNING)])
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(str(message.error()))
            payload = message.value()
            magic, writer_id = struct.unpack('>bI', payload[:5])
            if magic != 0:
                raise RuntimeError('bad magic byte %d' % magic)
            schema = avro.schema.parse(registry.get_schema(writer_id).schema_str)
            decoded = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(payload[5:])))
            emit('DECODED', {'key': message.key().decode('utf-8'), 'schemaId': writer_id, 'value': plain(decoded)})
            return 0
    finally:
        consumer.close()
    print('interop.py: no record on %s within %d s' % (output_topic, TIME_LIMIT_S), file=sys.stderr)
    return 2


if __name__ == '__main__':
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
    url, servers, in_topic, out_topic, schema_path, count = sys.argv[1:]
    sys.exit(main(url, servers, in_topic, out_topic, schema_path, int(count)))
