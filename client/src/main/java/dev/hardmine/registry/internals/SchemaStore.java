package dev.hardmine.registry.internals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import dev.hardmine.registry.Compatibility;
import dev.hardmine.registry.RegisteredSchema;
import dev.hardmine.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * The registry's logic and state: subjects and their versions, schemas by global id, compatibility
 * levels. Shared by the embedded HTTP registry and the {@code mock://} client, so both answer alike.
 *
 * <p>State changes only by applying {@link LogEntry}s read back from the {@link SchemaLog}; writers
 * append to the log and wait until their entry is applied. Writers are serialized by one lock, so
 * the next free id and version are computed from an up-to-date state. Ids are global: a schema
 * already registered under another subject keeps its id (as in Confluent's registry).
 *
 * <p>Errors are {@link SchemaRegistryException}s with Confluent's HTTP status and error code.
 */
public final class SchemaStore implements AutoCloseable {

    /** Result of a compatibility test: whether compatible, and why not. */
    public record CompatibilityResult(boolean compatible, List<String> messages) {
    }

    private final SchemaLog log;
    private final Object writeLock = new Object();
    private final ReadWriteLock stateLock = new ReentrantReadWriteLock();

    // Guarded by stateLock.
    private final Map<Integer, ParsedSchema> byId = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final TreeMap<String, TreeMap<Integer, Integer>> versionsBySubject = new TreeMap<>();
    private final Map<String, Compatibility> subjectCompatibility = new HashMap<>();
    private Compatibility globalCompatibility = Compatibility.BACKWARD;
    private int maxId;

    private SchemaStore(SchemaLog log) {
        this.log = log;
    }

    /** A store over {@code log}, replayed to its end before this returns. */
    public static SchemaStore open(SchemaLog log) {
        SchemaStore store = new SchemaStore(log);
        log.start(store::apply);
        return store;
    }

    /** A store kept in memory only. */
    public static SchemaStore inMemory() {
        return open(new InMemorySchemaLog());
    }

    // ---------------------------------------------------------------- writes

    /**
     * Registers a schema under a subject; returns the existing version when the subject already has
     * the same schema.
     */
    public RegisteredSchema register(String subject, String schemaText) {
        requireSubject(subject);
        ParsedSchema parsed = ParsedSchema.parse(schemaText);
        synchronized (writeLock) {
            Optional<RegisteredSchema> existing = find(subject, parsed);
            if (existing.isPresent()) {
                return existing.get();
            }
            CompatibilityResult compatibility = checkAgainstSubject(subject, parsed.schema());
            if (!compatibility.compatible()) {
                throw new SchemaRegistryException(409, SchemaRegistryException.INCOMPATIBLE_SCHEMA,
                        "Schema being registered is incompatible with an earlier schema for subject \""
                                + subject + "\", details: " + compatibility.messages());
            }
            int id;
            int version;
            stateLock.readLock().lock();
            try {
                id = idByCanonical.getOrDefault(parsed.canonical(), maxId + 1);
                TreeMap<Integer, Integer> versions = versionsBySubject.get(subject);
                version = versions == null || versions.isEmpty() ? 1 : versions.lastKey() + 1;
            } finally {
                stateLock.readLock().unlock();
            }
            log.append(new LogEntry.SchemaVersion(subject, version, id, parsed.canonical(), false));
            return new RegisteredSchema(subject, id, version, parsed.schema());
        }
    }

    /** Sets the global compatibility level. */
    public Compatibility setGlobalCompatibility(Compatibility level) {
        synchronized (writeLock) {
            log.append(new LogEntry.Config(null, level));
        }
        return level;
    }

    /** Sets the compatibility level of a subject (which need not exist yet). */
    public Compatibility setSubjectCompatibility(String subject, Compatibility level) {
        requireSubject(subject);
        synchronized (writeLock) {
            log.append(new LogEntry.Config(subject, level));
        }
        return level;
    }

    // ---------------------------------------------------------------- reads

    /** The version of {@code subject} holding this schema: 40401 / 40403 when there is none. */
    public RegisteredSchema lookup(String subject, String schemaText) {
        ParsedSchema parsed = ParsedSchema.parse(schemaText);
        stateLock.readLock().lock();
        try {
            requireVersions(subject);
        } finally {
            stateLock.readLock().unlock();
        }
        return find(subject, parsed).orElseThrow(() ->
                new SchemaRegistryException(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema not found"));
    }

    /** The schema of a global id: 40403 when there is none. */
    public Schema schemaById(int id) {
        stateLock.readLock().lock();
        try {
            ParsedSchema stored = byId.get(id);
            if (stored == null) {
                throw new SchemaRegistryException(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found");
            }
            return stored.schema();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** Subjects with at least one version, sorted. */
    public List<String> subjects() {
        stateLock.readLock().lock();
        try {
            return versionsBySubject.entrySet().stream()
                    .filter(e -> !e.getValue().isEmpty())
                    .map(Map.Entry::getKey)
                    .toList();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** The versions of a subject, ascending: 40401 when it has none. */
    public List<Integer> versions(String subject) {
        stateLock.readLock().lock();
        try {
            return List.copyOf(requireVersions(subject).keySet());
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /**
     * A version of a subject, {@code "latest"} or {@code "-1"} for the latest: 40401, 40402, or 422 /
     * 42202 when {@code versionSpec} is not a version.
     */
    public RegisteredSchema version(String subject, String versionSpec) {
        int wanted = parseVersion(versionSpec);
        stateLock.readLock().lock();
        try {
            TreeMap<Integer, Integer> versions = requireVersions(subject);
            int version = wanted == LATEST ? versions.lastKey() : wanted;
            Integer id = versions.get(version);
            if (id == null) {
                throw new SchemaRegistryException(404, SchemaRegistryException.VERSION_NOT_FOUND, "Version " + version + " not found.");
            }
            return new RegisteredSchema(subject, id, version, byId.get(id).schema());
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** The global compatibility level. */
    public Compatibility globalCompatibility() {
        stateLock.readLock().lock();
        try {
            return globalCompatibility;
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** The level set on a subject, if one was. */
    public Optional<Compatibility> subjectCompatibility(String subject) {
        stateLock.readLock().lock();
        try {
            return Optional.ofNullable(subjectCompatibility.get(subject));
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** The level in force for a subject: its own, else the global one. */
    public Compatibility effectiveCompatibility(String subject) {
        return subjectCompatibility(subject).orElseGet(this::globalCompatibility);
    }

    /**
     * Whether a schema could be registered after version {@code versionSpec} of {@code subject}.
     * Against {@code latest} the subject's level decides which versions are checked (all for a
     * transitive level) and a subject without versions accepts anything; against a numbered version,
     * only that version is checked.
     */
    public CompatibilityResult testCompatibility(String subject, String versionSpec, String schemaText) {
        ParsedSchema parsed = ParsedSchema.parse(schemaText);
        int wanted = parseVersion(versionSpec);
        if (wanted == LATEST) {
            return checkAgainstSubject(subject, parsed.schema());
        }
        RegisteredSchema previous = version(subject, versionSpec);
        return check(effectiveCompatibility(subject), parsed.schema(), List.of(previous.schema()));
    }

    // ---------------------------------------------------------------- applying the log

    /** Applies one log entry; idempotent, so replaying an entry already applied changes nothing. */
    void apply(LogEntry entry) {
        stateLock.writeLock().lock();
        try {
            if (entry instanceof LogEntry.SchemaVersion v) {
                applyVersion(v);
            } else if (entry instanceof LogEntry.Config c) {
                if (c.subject() == null) {
                    globalCompatibility = c.compatibility();
                } else {
                    subjectCompatibility.put(c.subject(), c.compatibility());
                }
            } else if (entry instanceof LogEntry.SchemaVersionRemoved r) {
                TreeMap<Integer, Integer> versions = versionsBySubject.get(r.subject());
                if (versions != null) {
                    versions.remove(r.version());
                }
            }
        } finally {
            stateLock.writeLock().unlock();
        }
    }

    private void applyVersion(LogEntry.SchemaVersion v) {
        if (v.deleted()) {
            TreeMap<Integer, Integer> versions = versionsBySubject.get(v.subject());
            if (versions != null) {
                versions.remove(v.version());
            }
        } else {
            versionsBySubject.computeIfAbsent(v.subject(), s -> new TreeMap<>()).put(v.version(), v.id());
        }
        // A deleted version's id stays resolvable: data written with it may still be read.
        if (!byId.containsKey(v.id())) {
            ParsedSchema parsed = ParsedSchema.parse(v.schema());
            byId.put(v.id(), parsed);
            idByCanonical.putIfAbsent(parsed.canonical(), v.id());
        }
        maxId = Math.max(maxId, v.id());
    }

    // ---------------------------------------------------------------- helpers

    private static final int LATEST = -1;

    private static int parseVersion(String spec) {
        if ("latest".equalsIgnoreCase(spec) || "-1".equals(spec)) {
            return LATEST;
        }
        try {
            int version = Integer.parseInt(spec);
            if (version >= 1) {
                return version;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_VERSION,
                "The specified version '" + spec + "' is not a valid version id. "
                        + "Allowed values are between [1, 2^31-1] and the string \"latest\"");
    }

    private Optional<RegisteredSchema> find(String subject, ParsedSchema parsed) {
        stateLock.readLock().lock();
        try {
            Integer id = idByCanonical.get(parsed.canonical());
            TreeMap<Integer, Integer> versions = versionsBySubject.get(subject);
            if (id == null || versions == null) {
                return Optional.empty();
            }
            for (var e : versions.entrySet()) {
                if (e.getValue().equals(id)) {
                    return Optional.of(new RegisteredSchema(subject, id, e.getKey(), byId.get(id).schema()));
                }
            }
            return Optional.empty();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    private CompatibilityResult checkAgainstSubject(String subject, Schema candidate) {
        Compatibility level = effectiveCompatibility(subject);
        List<Schema> previous = new ArrayList<>();
        stateLock.readLock().lock();
        try {
            TreeMap<Integer, Integer> versions = versionsBySubject.get(subject);
            if (versions != null && !versions.isEmpty()) {
                if (level.transitive()) {
                    versions.values().forEach(id -> previous.add(byId.get(id).schema()));
                } else {
                    previous.add(byId.get(versions.lastEntry().getValue()).schema());
                }
            }
        } finally {
            stateLock.readLock().unlock();
        }
        return check(level, candidate, previous);
    }

    private static CompatibilityResult check(Compatibility level, Schema candidate, List<Schema> previous) {
        List<String> messages = new ArrayList<>();
        for (Schema old : previous) {
            if (level.newReadsOld()) {
                describe(SchemaCompatibility.checkReaderWriterCompatibility(candidate, old), "new schema reading old data", messages);
            }
            if (level.oldReadsNew()) {
                describe(SchemaCompatibility.checkReaderWriterCompatibility(old, candidate), "old schema reading new data", messages);
            }
        }
        return new CompatibilityResult(messages.isEmpty(), List.copyOf(messages));
    }

    private static void describe(SchemaCompatibility.SchemaPairCompatibility pair, String direction, List<String> messages) {
        if (pair.getType() == SchemaCompatibilityType.COMPATIBLE) {
            return;
        }
        for (Incompatibility i : pair.getResult().getIncompatibilities()) {
            messages.add("{errorType:'" + i.getType() + "', description:'" + direction + ": " + i.getMessage()
                    + "', location:'" + i.getLocation() + "'}");
        }
    }

    private TreeMap<Integer, Integer> requireVersions(String subject) {
        TreeMap<Integer, Integer> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            throw new SchemaRegistryException(404, SchemaRegistryException.SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
        }
        return versions;
    }

    private static void requireSubject(String subject) {
        if (subject == null || subject.isBlank()) {
            throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_SUBJECT, "Invalid subject: must not be empty");
        }
    }

    @Override
    public void close() {
        log.close();
    }
}
