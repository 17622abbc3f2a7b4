"""A small Python counterpart of hardmine's Java client (dev.hardmine.client), on Debian's
python3-confluent-kafka and python3-avro (Debian has no fastavro, which confluent_kafka's own
AvroSerializer needs, so records are framed here in Confluent's wire format by hand).

- EmbeddingPublisher: one EmbeddingBatch per training batch, key = job id, idempotent producer,
  at most `max_in_flight` batches not yet acknowledged (publish() waits for the broker past that).
- MinedBatchSubscriber: the batches mined from this worker's own input: key "job/worker", in the
  partition Kafka's Java default partitioner (murmur2) gives that key, read_committed. One
  subscriber can read for several workers of one job (a list of worker ids).
- JobConfigPublisher: one JobConfig (per-job overrides of the mining settings) on the compacted
  jobs topic, key = job id; e.g. memory_negatives / memory_positives, which ask hardmine to send
  memory embeddings back with every mined batch.

Records are decoded with their writer schema, fetched from the registry by id, by a decoder
compiled from that schema (compile_reader: about 3x faster than avro.io's DatumReader, which
matters once mined batches carry a thousand memory samples); schemas with logical types it does
not convert fall back to avro.io.

Wire format: byte 0 = 0, bytes 1-4 = schema id (big-endian), then Avro binary.

Every class takes kafka_config (a dict of librdkafka settings added to its producer's or consumer's,
e.g. security.protocol, sasl.mechanism, sasl.username, sasl.password, ssl.ca.location) and
registry_config (settings added to the schema registry client's, e.g. basic.auth.user.info,
ssl.ca.location), for a cluster and a registry that ask for TLS and credentials.
"""
import datetime
import io
import json
import struct
import time

import avro.io
import avro.schema
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_FLOAT, _DOUBLE = struct.Struct('<f').unpack_from, struct.Struct('<d').unpack_from


def murmur2(data):
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int."""
    m, r, mask = 0x5bd1e995, 24, 0xffffffff
    length = len(data)
    h = (0x9747b28c ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = (data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24)
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key, partitions):
    """The partition Kafka's Java default partitioner gives a key: toPositive(murmur2) % partitions."""
    return (murmur2(key.encode('utf-8')) & 0x7fffffff) % partitions


def _read_long(b, p):
    """Avro's zig-zag varint at b[p]: (value, next position)."""
    n = b[p]
    p += 1
    if n < 0x80:
        return (n >> 1) ^ -(n & 1), p
    value, shift = n & 0x7f, 7
    while True:
        n = b[p]
        p += 1
        value |= (n & 0x7f) << shift
        if n < 0x80:
            return (value >> 1) ^ -(value & 1), p
        shift += 7


def compile_reader(schema):
    """A decoder of Avro binary data written with `schema` (parsed JSON): bytes -> the same dicts,
    lists, str, bytes, numbers and None as avro.io's DatumReader (timestamp-millis/-micros as aware
    datetimes). Raises NotImplementedError for logical types it does not convert (decimal, date,
    time-*), for which avro.io must be used."""
    named = {}

    def build(s, namespace):
        if isinstance(s, list):
            branches = [build(x, namespace) for x in s]

            def union(b, p):
                i, p = _read_long(b, p)
                return branches[i](b, p)
            return union
        if isinstance(s, str):
            s = {'type': s}
        t = s['type']
        if isinstance(t, (dict, list)):
            return build(t, namespace)
        logical = s.get('logicalType')
        if logical in ('timestamp-millis', 'timestamp-micros') and t == 'long':
            unit = 'milliseconds' if logical == 'timestamp-millis' else 'microseconds'

            def timestamp(b, p):
                v, p = _read_long(b, p)
                return EPOCH + datetime.timedelta(**{unit: v}), p
            return timestamp
        if logical is not None and logical != 'uuid':
            raise NotImplementedError('logical type %s' % logical)
        if t == 'null':
            return lambda b, p: (None, p)
        if t == 'boolean':
            return lambda b, p: (b[p] == 1, p + 1)
        if t in ('int', 'long'):
            return _read_long
        if t == 'float':
            return lambda b, p: (_FLOAT(b, p)[0], p + 4)
        if t == 'double':
            return lambda b, p: (_DOUBLE(b, p)[0], p + 8)
        if t == 'string':
            def string(b, p):
                n, p = _read_long(b, p)
                return b[p:p + n].decode('utf-8'), p + n
            return string
        if t == 'bytes':
            def blob(b, p):
                n, p = _read_long(b, p)
                return b[p:p + n], p + n
            return blob
        if t in ('array', 'map'):
            item = build(s['items'] if t == 'array' else s['values'], namespace)
            key = build('string', namespace)

            def blocks(b, p):
                out = [] if t == 'array' else {}
                while True:
                    n, p = _read_long(b, p)
                    if n == 0:
                        return out, p
                    if n < 0:  # a block with its size in bytes
                        n = -n
                        _, p = _read_long(b, p)
                    for _ in range(n):
                        if t == 'array':
                            v, p = item(b, p)
                            out.append(v)
                        else:
                            k, p = key(b, p)
                            out[k], p = item(b, p)
            return blocks
        if t in ('record', 'error', 'enum', 'fixed'):
            name = s['name']
            if '.' in name:
                full, namespace = name, name.rsplit('.', 1)[0]
            else:
                namespace = s.get('namespace', namespace)
                full = namespace + '.' + name if namespace else name
            if t == 'enum':
                symbols = s['symbols']

                def enum(b, p):
                    i, p = _read_long(b, p)
                    return symbols[i], p
                named[full] = enum
            elif t == 'fixed':
                size = s['size']
                named[full] = lambda b, p: (b[p:p + size], p + size)
            else:
                fields = []

                def record(b, p):
                    out = {}
                    for field, read in fields:
                        out[field], p = read(b, p)
                    return out, p
                named[full] = record  # before the fields, which may refer to it
                fields.extend((f['name'], build(f['type'], namespace)) for f in s['fields'])
            return named[full]
        full = t if '.' in t or not namespace else namespace + '.' + t  # a reference to a named type
        if full not in named and t in named:
            full = t
        return lambda b, p: named[full](b, p)

    read = build(schema, '')

    def decode(data, start=0):
        """The value encoded in data[start:] (bytes), which it must use up."""
        value, end = read(data, start)
        if end != len(data):
            raise ValueError('%d bytes left after the record' % (len(data) - end))
        return value
    return decode


class EmbeddingPublisher:
    """Publishes EmbeddingBatch records for one worker of one job."""

    def __init__(self, bootstrap, registry_url, schema_file, job_id, worker_id,
                 topic='hardmine.embeddings', max_in_flight=8, model_version='', kafka_config=None,
                 registry_config=None):
        self.job_id, self.worker_id, self.topic = job_id, worker_id, topic
        self.max_in_flight, self.model_version = max_in_flight, model_version
        with open(schema_file, encoding='utf-8') as f:
            schema_str = json.dumps(json.load(f))
        registry = _registry(registry_url, registry_config)
        self.schema_id = registry.register_schema(topic + '-value', Schema(schema_str, 'AVRO'))
        self.writer = avro.io.DatumWriter(avro.schema.parse(schema_str))
        self.producer = Producer(_with(kafka_config, {
            'bootstrap.servers': bootstrap,
            'enable.idempotence': True,  # implies acks=all: retries neither lose nor duplicate a batch
            'acks': 'all',
            'linger.ms': 5,
            'partitioner': 'murmur2_random',  # the Java producer's partitioner: one job, one partition, whoever writes
            'client.id': 'hardmine-example-%s-%s' % (job_id, worker_id),
        }))
        self.in_flight = 0
        self.published = 0
        self.errors = []

    def _delivered(self, err, _msg):
        self.in_flight -= 1
        if err is not None:
            self.errors.append(str(err))

    def publish(self, step, sample_ids, labels, embeddings, timeout=30.0, worker_id=None):
        """embeddings: a float32 numpy array [batch, dim]. Blocks while max_in_flight batches are unacknowledged.
        worker_id: the batch's worker, if not this publisher's (one producer for several simulated workers)."""
        worker_id = self.worker_id if worker_id is None else worker_id
        deadline = time.monotonic() + timeout
        while self.in_flight >= self.max_in_flight:
            if time.monotonic() > deadline:
                raise RuntimeError('%d batches still unacknowledged after %.0f s' % (self.in_flight, timeout))
            self.producer.poll(0.05)
        if self.errors:
            raise RuntimeError('publishing failed: %s' % self.errors[0])
        rows = embeddings.astype('<f4')
        record = {
            'job_id': self.job_id, 'worker_id': worker_id,
            'batch_id': '%s-%d' % (worker_id, step), 'step': step,
            'model_version': self.model_version,
            'produced_at': datetime.datetime.now(datetime.timezone.utc),
            'dim': int(rows.shape[1]),
            'samples': [{'sample_id': s, 'label': l, 'embedding': rows[i].tobytes()}
                        for i, (s, l) in enumerate(zip(sample_ids, labels))],
        }
        out = io.BytesIO()
        out.write(struct.pack('>bI', 0, self.schema_id))
        self.writer.write(record, avro.io.BinaryEncoder(out))
        self.in_flight += 1
        self.producer.produce(self.topic, key=self.job_id.encode('utf-8'), value=out.getvalue(),
                              on_delivery=self._delivered)
        self.producer.poll(0)
        self.published += 1

    def close(self, timeout=30.0):
        remaining = self.producer.flush(timeout)
        if remaining or self.errors:
            raise RuntimeError('%d batches undelivered, errors: %s' % (remaining, self.errors[:3]))


def _with(extra, config):
    """config with the user's settings (kafka_config, registry_config) added over it."""
    config.update(extra or {})
    return config


def _registry(registry_url, registry_config=None):
    return SchemaRegistryClient(_with(registry_config, {'url': registry_url}))


def _reader(bootstrap, client_id, extra=None, kafka_config=None):
    """A consumer for partitions it assigns itself, read_committed, committing nothing."""
    config = {
        'bootstrap.servers': bootstrap,
        'group.id': 'hardmine-example-unused',  # required by librdkafka; nothing is committed
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
        'client.id': client_id,
    }
    config.update(extra or {})
    return Consumer(_with(kafka_config, config))


class WireDecoder:
    """Decodes Confluent wire-format values with their writer schema, fetched once per schema id."""

    def __init__(self, registry_url, registry_config=None):
        self.registry = _registry(registry_url, registry_config)
        self.readers = {}

    def decode(self, payload):
        magic, schema_id = struct.unpack('>bI', payload[:5])
        if magic != 0:
            raise ValueError('bad magic byte %d' % magic)
        reader = self.readers.get(schema_id)
        if reader is None:
            schema_str = self.registry.get_schema(schema_id).schema_str
            try:
                reader = compile_reader(json.loads(schema_str))
            except NotImplementedError:
                slow = avro.io.DatumReader(avro.schema.parse(schema_str))
                reader = lambda data, start: slow.read(avro.io.BinaryDecoder(io.BytesIO(data[start:])))
            self.readers[schema_id] = reader
        return reader(payload, 5)


class MinedBatchSubscriber:
    """The MinedBatch records mined from the input of one worker (worker_id a string) or of several
    workers of one job (a list of worker ids), decoded to dicts; their key "job/worker" tells them
    apart, and so does their field worker_id."""

    def __init__(self, bootstrap, registry_url, job_id, worker_id, topic='hardmine.mined', timeout=30.0,
                 kafka_config=None, registry_config=None):
        workers = [worker_id] if isinstance(worker_id, str) else list(worker_id)
        self.keys = ['%s/%s' % (job_id, w) for w in workers]
        self.key = self.keys[0]
        self.decoder = WireDecoder(registry_url, registry_config)
        self.consumer = _reader(bootstrap, 'hardmine-example-mined-' + self.key, {
            # A mined batch with a thousand memory samples is about 200 KB; let one fetch hold several.
            'fetch.max.bytes': 64 * 1024 * 1024,
            'max.partition.fetch.bytes': 16 * 1024 * 1024,
        }, kafka_config)
        metadata = self.consumer.list_topics(topic, timeout=timeout)
        partitions = metadata.topics[topic].partitions
        if not partitions:
            raise RuntimeError('topic %s does not exist (hardmine creates it when it starts)' % topic)
        self.partitions = [partition_of(k, len(partitions)) for k in self.keys]  # one per worker
        self.partition = self.partitions[0]
        self._wanted = set(k.encode('utf-8') for k in self.keys)
        # Start at the end as it is now, so that everything mined from our batches is read.
        assignment = []
        for p in sorted(set(self.partitions)):
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            assignment.append(TopicPartition(topic, p, high))
        self.consumer.assign(assignment)

    def poll(self, timeout=0.0):
        """The mined batches that have arrived (waiting at most timeout seconds), as dicts."""
        out = []
        for message in self.consumer.consume(num_messages=500, timeout=timeout):
            if message.error():
                raise KafkaException(message.error())
            if message.key() in self._wanted:
                out.append(self.decoder.decode(message.value()))
        return out

    def close(self):
        self.consumer.close()


class NeighborsSubscriber:
    """One job's hard-identity neighbours (IdentityNeighbors, decoded to dicts) from the compacted
    neighbours topic: every partition from the beginning, then updates as they come; other jobs'
    records skipped. The job asks for them with the JobConfig field neighbors_per_identity."""

    def __init__(self, bootstrap, registry_url, job_id, topic='hardmine.neighbors', timeout=30.0,
                 kafka_config=None, registry_config=None):
        self.job_id = job_id
        self.prefix = (job_id + '/').encode('utf-8')
        self.decoder = WireDecoder(registry_url, registry_config)
        self.consumer = _reader(bootstrap, 'hardmine-example-neighbors-' + job_id, kafka_config=kafka_config)
        metadata = self.consumer.list_topics(topic, timeout=timeout)
        partitions = metadata.topics[topic].partitions
        if not partitions:
            raise RuntimeError('topic %s does not exist (hardmine creates it when it starts)' % topic)
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(partitions)])

    def poll(self, timeout=0.0):
        """The job's neighbour records that have arrived (waiting at most timeout seconds), as dicts."""
        out = []
        for message in self.consumer.consume(num_messages=1000, timeout=timeout):
            if message.error():
                raise KafkaException(message.error())
            key, value = message.key(), message.value()
            # The key's prefix is a quick filter; the value says whose record it is.
            if key is not None and key.startswith(self.prefix) and value is not None:
                record = self.decoder.decode(value)
                if record['job_id'] == self.job_id:
                    out.append(record)
        return out

    def close(self):
        self.consumer.close()


class JobConfigPublisher:
    """Writes JobConfig records (per-job overrides of hardmine's mining settings) to the compacted
    jobs topic: key = job id (UTF-8), value = JobConfig in the wire format, registered under
    `<topic>-value`. A record replaces the job's previous JobConfig whole: fields not given are
    null, i.e. the service's defaults. hardmine reads the topic as a global table, so a config
    applies to batches mined after hardmine has read it (usually well under a second)."""

    def __init__(self, bootstrap, registry_url, schema_file, topic='hardmine.jobs', kafka_config=None,
                 registry_config=None):
        self.topic = topic
        with open(schema_file, encoding='utf-8') as f:
            schema = json.load(f)
        self.fields = [f['name'] for f in schema['fields']]
        schema_str = json.dumps(schema)
        registry = _registry(registry_url, registry_config)
        self.schema_id = registry.register_schema(topic + '-value', Schema(schema_str, 'AVRO'))
        self.writer = avro.io.DatumWriter(avro.schema.parse(schema_str))
        self.producer = Producer(_with(kafka_config, {
            'bootstrap.servers': bootstrap,
            'enable.idempotence': True,
            'acks': 'all',
            'partitioner': 'murmur2_random',
            'client.id': 'hardmine-example-jobconfig',
        }))

    def publish(self, job_id, timeout=30.0, **overrides):
        """Produces the JobConfig of job_id with these overrides (JobConfig field names, e.g.
        memory_negatives=16) and waits until the broker has it."""
        unknown = sorted(set(overrides) - set(self.fields))
        if unknown:
            raise ValueError('JobConfig has no field %s (schema too old?)' % ', '.join(unknown))
        record = {name: None for name in self.fields}
        record.update(overrides)
        record['job_id'] = job_id
        record['updated_at'] = datetime.datetime.now(datetime.timezone.utc)
        out = io.BytesIO()
        out.write(struct.pack('>bI', 0, self.schema_id))
        self.writer.write(record, avro.io.BinaryEncoder(out))
        errors = []
        self.producer.produce(self.topic, key=job_id.encode('utf-8'), value=out.getvalue(),
                              on_delivery=lambda err, _msg: err is not None and errors.append(str(err)))
        remaining = self.producer.flush(timeout)
        if remaining or errors:
            raise RuntimeError('JobConfig of %s not delivered: %s' % (job_id, errors or 'timeout'))
        return record
