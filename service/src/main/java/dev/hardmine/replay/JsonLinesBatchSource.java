package dev.hardmine.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.mining.InvalidBatchException;
import java.io.BufferedReader;
import java.io.IOException;

/** EmbeddingBatch records, one JSON object per line; blank lines are skipped. */
public final class JsonLinesBatchSource implements BatchSource {
    private final BufferedReader reader;
    private long line;

    public JsonLinesBatchSource(BufferedReader reader) {
        this.reader = reader;
    }

    @Override
    public EmbeddingBatch next() throws IOException {
        String text;
        do {
            text = reader.readLine();
            if (text == null) {
                return null;
            }
            line++;
        } while (text.isBlank());
        try {
            return JsonLines.parseEmbeddingBatch(text);
        } catch (JsonProcessingException e) {
            throw new ReplayException(position(), "malformed", "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (InvalidBatchException e) {
            throw new ReplayException(position(), e.reason(), e.getMessage(), e);
        }
    }

    @Override
    public String position() {
        return "line " + line;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
