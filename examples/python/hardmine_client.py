"""A small Python counterpart of hardmine's Java client (dev.hardmine.client), on Debian's
python3-confluent-kafka and python3-avro (Debian has no fastavro, which confluent_kafka's own
AvroSerializer needs, so records are framed here in Confluent's wire format by hand).

- EmbeddingPublisher: one EmbeddingBatch per training batch, key = job id, idempotent producer,
  at most `max_in_flight` batches not yet acknowledged (publish() waits for the broker past that).
- MinedBatchSubscriber: the batches mined from this worker's own input: key "job/worker", in the
  partition Kafka's Java default partitioner (murmur2) gives that key, read_committed.

Wire format: byte 0 = 0, bytes 1-4 = schema id (big-endian), then Avro binary.
"""
import datetime
import io
import json
import struct
import time

import avro.io
import avro.schema
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


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


class EmbeddingPublisher:
    """Publishes EmbeddingBatch records for one worker of one job."""

    def __init__(self, bootstrap, registry_url, schema_file, job_id, worker_id,
                 topic='hardmine.embeddings', max_in_flight=8, model_version=''):
        self.job_id, self.worker_id, self.topic = job_id, worker_id, topic
        self.max_in_flight, self.model_version = max_in_flight, model_version
        with open(schema_file, encoding='utf-8') as f:
            schema_str = json.dumps(json.load(f))
        registry = SchemaRegistryClient({'url': registry_url})
        self.schema_id = registry.register_schema(topic + '-value', Schema(schema_str, 'AVRO'))
        self.writer = avro.io.DatumWriter(avro.schema.parse(schema_str))
        self.producer = Producer({
            'bootstrap.servers': bootstrap,
            'enable.idempotence': True,  # implies acks=all: retries neither lose nor duplicate a batch
            'acks': 'all',
            'linger.ms': 5,
            'partitioner': 'murmur2_random',  # the Java producer's partitioner: one job, one partition, whoever writes
            'client.id': 'hardmine-example-%s-%s' % (job_id, worker_id),
        })
        self.in_flight = 0
        self.published = 0
        self.errors = []

    def _delivered(self, err, _msg):
        self.in_flight -= 1
        if err is not None:
            self.errors.append(str(err))

    def publish(self, step, sample_ids, labels, embeddings, timeout=30.0):
        """embeddings: a float32 numpy array [batch, dim]. Blocks while max_in_flight batches are unacknowledged."""
        deadline = time.monotonic() + timeout
        while self.in_flight >= self.max_in_flight:
            if time.monotonic() > deadline:
                raise RuntimeError('%d batches still unacknowledged after %.0f s' % (self.in_flight, timeout))
            self.producer.poll(0.05)
        if self.errors:
            raise RuntimeError('publishing failed: %s' % self.errors[0])
        rows = embeddings.astype('<f4')
        record = {
            'job_id': self.job_id, 'worker_id': self.worker_id,
            'batch_id': '%s-%d' % (self.worker_id, step), 'step': step,
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


class MinedBatchSubscriber:
    """The MinedBatch records mined from one worker's own input, decoded to dicts."""

    def __init__(self, bootstrap, registry_url, job_id, worker_id, topic='hardmine.mined', timeout=30.0):
        self.key = '%s/%s' % (job_id, worker_id)
        self.registry = SchemaRegistryClient({'url': registry_url})
        self.readers = {}
        self.consumer = Consumer({
            'bootstrap.servers': bootstrap,
            'group.id': 'hardmine-example-unused',  # required by librdkafka; nothing is committed
            'enable.auto.commit': False,
            'isolation.level': 'read_committed',
            'client.id': 'hardmine-example-mined-' + self.key,
        })
        metadata = self.consumer.list_topics(topic, timeout=timeout)
        partitions = metadata.topics[topic].partitions
        if not partitions:
            raise RuntimeError('topic %s does not exist (hardmine creates it when it starts)' % topic)
        self.partition = partition_of(self.key, len(partitions))
        # Start at the end as it is now, so that everything mined from our batches is read.
        _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, self.partition), timeout=timeout)
        self.consumer.assign([TopicPartition(topic, self.partition, high)])

    def _decode(self, payload):
        magic, schema_id = struct.unpack('>bI', payload[:5])
        if magic != 0:
            raise ValueError('bad magic byte %d' % magic)
        reader = self.readers.get(schema_id)
        if reader is None:
            reader = avro.io.DatumReader(avro.schema.parse(self.registry.get_schema(schema_id).schema_str))
            self.readers[schema_id] = reader
        return reader.read(avro.io.BinaryDecoder(io.BytesIO(payload[5:])))

    def poll(self, timeout=0.0):
        """The mined batches that have arrived (waiting at most timeout seconds), as dicts."""
        out = []
        for message in self.consumer.consume(num_messages=500, timeout=timeout):
            if message.error():
                raise KafkaException(message.error())
            if message.key() is not None and message.key().decode('utf-8') == self.key:
                out.append(self._decode(message.value()))
        return out

    def close(self):
        self.consumer.close()
