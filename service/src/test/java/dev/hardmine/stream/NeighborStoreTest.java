package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.mining.NeighborList;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NeighborStoreTest {

    @Test
    void anEntryWrittenInFormatVersionOneIsRead() {
        // Written by hand from the documented layout: version 1, step 42, one entry "ü7".
        byte[] label = "ü7".getBytes(StandardCharsets.UTF_8);
        byte[] v1 = ByteBuffer.allocate(1 + 8 + 4 + 4 + label.length + 8 + 8 + 8)
                .put((byte) 1).putLong(42).putInt(1)
                .putInt(label.length).put(label).putDouble(2.5).putLong(3).putLong(40).array();

        NeighborList list = NeighborStore.decode(v1);
        assertThat(list.step()).isEqualTo(42);
        assertThat(list.entries()).containsExactly(new NeighborList.Neighbor("ü7", 2.5, 3, 40));
        assertThat(NeighborStore.encode(list)).isEqualTo(v1);
    }

    @Test
    void anEntryOfAnUnknownVersionIsAnErrorNotAMisreading() {
        byte[] v2 = ByteBuffer.allocate(13).put((byte) 2).putLong(1).putInt(0).array();
        assertThatThrownBy(() -> NeighborStore.decode(v2)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("format version 2");
    }

    @Test
    void anEmptyListRoundTrips() {
        NeighborList empty = NeighborStore.decode(NeighborStore.encode(NeighborList.empty()));
        assertThat(empty.step()).isEqualTo(Long.MIN_VALUE);
        assertThat(empty.entries()).isEqualTo(List.of());
    }
}
