package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.Neighbor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HardIdentitySamplerTest {
    /** 8 families f0…f7 of 4 identities "f<i>m<j>", 6 samples each: sample index = 6 · identity + image. */
    private static final Map<String, int[]> SAMPLES = new HashMap<>();

    static {
        for (int f = 0; f < 8; f++) {
            for (int m = 0; m < 4; m++) {
                int id = 4 * f + m;
                SAMPLES.put("f" + f + "m" + m, new int[] {6 * id, 6 * id + 1, 6 * id + 2, 6 * id + 3, 6 * id + 4, 6 * id + 5});
            }
        }
    }

    /** Every identity's neighbours are the other members of its family, nearest first by member number. */
    private static void teachFamilies(HardIdentitySampler sampler) {
        SAMPLES.keySet().stream().sorted().forEach(label -> {
            List<Neighbor> others = new ArrayList<>();
            for (int m = 0; m < 4; m++) {
                String other = label.substring(0, 2) + "m" + m;
                if (!other.equals(label)) {
                    others.add(new Neighbor(other, 4.0 - m, 1L, 0L));
                }
            }
            others.add(new Neighbor("not-in-the-training-set", 0.5, 1L, 0L));
            sampler.update(new IdentityNeighbors("job", label, 0L, others));
        });
    }

    private static String family(String label) {
        return label.substring(0, 2);
    }

    @Test
    void withoutNeighboursABatchIsPDistinctRandomIdentitiesOfKDistinctSamplesEach() {
        HardIdentitySampler sampler = new HardIdentitySampler(SAMPLES, 8, 4, 0.5, 4, 1);
        for (int b = 0; b < 20; b++) {
            List<String> identities = sampler.nextIdentities();
            assertThat(identities).hasSize(8).doesNotHaveDuplicates();
            int[] batch = sampler.nextBatch();
            assertThat(batch).hasSize(32);
            for (int i = 0; i < 8; i++) {
                int[] part = Arrays.copyOfRange(batch, 4 * i, 4 * i + 4);
                assertThat(Arrays.stream(part).map(x -> x / 6).distinct().count()).as("one identity").isEqualTo(1);
                assertThat(Arrays.stream(part).distinct().count()).as("distinct samples").isEqualTo(4);
            }
        }
    }

    @Test
    void withNoRandomShareAndGroupsOfFourABatchIsTwoWholeFamilies() {
        HardIdentitySampler sampler = new HardIdentitySampler(SAMPLES, 8, 4, 0.0, 4, 2);
        teachFamilies(sampler);
        assertThat(sampler.identitiesWithNeighbors()).isEqualTo(32);
        for (int b = 0; b < 50; b++) {
            List<String> identities = sampler.nextIdentities();
            Map<String, Integer> perFamily = new HashMap<>();
            identities.forEach(l -> perFamily.merge(family(l), 1, Integer::sum));
            // A seed and its three neighbours are its whole family; a second seed of the same family adds nobody.
            assertThat(perFamily).as("batch %s", identities).hasSize(2).allSatisfy((f, n) -> assertThat(n).isEqualTo(4));
            assertThat(identities).doesNotContain("not-in-the-training-set");
        }
    }

    @Test
    void halfRandomMeansOneGroupOfFourAndFourRandomIdentities() {
        HardIdentitySampler sampler = new HardIdentitySampler(SAMPLES, 8, 4, 0.5, 4, 3);
        teachFamilies(sampler);
        Set<String> randomFamilies = new HashSet<>();
        for (int b = 0; b < 50; b++) {
            List<String> identities = sampler.nextIdentities();
            // The group comes first: four members of one family.
            assertThat(identities.subList(0, 4).stream().map(HardIdentitySamplerTest::family).distinct()).hasSize(1);
            identities.subList(4, 8).forEach(l -> randomFamilies.add(family(l)));
        }
        assertThat(randomFamilies).as("random identities reach every family").hasSize(8);
    }

    @Test
    void theSameSeedAndCallsGiveTheSameBatches() {
        HardIdentitySampler a = new HardIdentitySampler(SAMPLES, 8, 4, 0.25, 3, 9);
        HardIdentitySampler b = new HardIdentitySampler(SAMPLES, 8, 4, 0.25, 3, 9);
        teachFamilies(a);
        teachFamilies(b);
        for (int i = 0; i < 10; i++) {
            assertThat(a.nextBatch()).isEqualTo(b.nextBatch());
        }
    }
}
