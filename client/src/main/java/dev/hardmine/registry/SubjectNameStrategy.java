package dev.hardmine.registry;

import org.apache.avro.Schema;

/**
 * Which registry subject a record's schema goes under, as Confluent's strategies of the same names:
 * {@code TopicNameStrategy} (the default: {@code <topic>-value} / {@code <topic>-key}, one type per
 * topic), {@code RecordNameStrategy} (the record's full name, several types per topic) and
 * {@code TopicRecordNameStrategy} ({@code <topic>-<full name>}).
 */
public enum SubjectNameStrategy {
    TOPIC_NAME("TopicNameStrategy"),
    RECORD_NAME("RecordNameStrategy"),
    TOPIC_RECORD_NAME("TopicRecordNameStrategy");

    private final String confluentName;

    SubjectNameStrategy(String confluentName) {
        this.confluentName = confluentName;
    }

    /** The subject for a record of {@code schema} on {@code topic}, as key or as value. */
    public String subject(String topic, boolean isKey, Schema schema) {
        return switch (this) {
            case TOPIC_NAME -> topic + (isKey ? "-key" : "-value");
            case RECORD_NAME -> schema.getFullName();
            case TOPIC_RECORD_NAME -> topic + "-" + schema.getFullName();
        };
    }

    /**
     * Parses a strategy as configured for Confluent's serdes: a class name such as
     * {@code io.confluent.kafka.serializers.subject.RecordNameStrategy}, its simple name, or this
     * enum's constant name.
     */
    public static SubjectNameStrategy parse(String value) {
        String simple = value.trim();
        simple = simple.substring(simple.lastIndexOf('.') + 1);
        for (SubjectNameStrategy s : values()) {
            if (s.confluentName.equalsIgnoreCase(simple) || s.name().equalsIgnoreCase(simple.replace('-', '_'))) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown subject name strategy '" + value
                + "': expected TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
    }

    @Override
    public String toString() {
        return confluentName;
    }

    /** Confluent's name of the strategy, {@code TopicNameStrategy} for example. */
    public String confluentName() {
        return confluentName;
    }
}
