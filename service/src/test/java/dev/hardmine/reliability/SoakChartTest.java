package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.testing.SoakChart;
import dev.hardmine.testing.SoakChart.Series;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SoakChartTest {
    private static final List<String> TABLE = List.of(
            "Soak of 3 min",
            "",
            "| minute | embeddings/s | heap after full GC MB |",
            "|---:|---:|---:|",
            "| 1 | 6000 |  |",
            "| 2 | 7500 | 130.5 |",
            "| 3 | 7400 |  |");

    @Test
    void aTableGivesOneSeriesPerColumnByMinuteWithBlankCellsAsGaps() {
        List<Series> series = SoakChart.fromTable(TABLE);

        assertThat(series).extracting(Series::name).containsExactly("embeddings/s", "heap after full GC MB");
        assertThat(series.get(0).minutes()).containsExactly(1, 2, 3);
        assertThat(series.get(0).values()).containsExactly(6000, 7500, 7400);
        assertThat(series.get(1).values()[0]).isNaN();
        assertThat(series.get(1).values()[1]).isEqualTo(130.5);
    }

    @Test
    void eachSeriesIsAPanelWhosePointsFallWithinItAndRiseWithTheValues() {
        String svg = SoakChart.svg("Soak of 3 min", SoakChart.fromTable(TABLE));

        assertThat(svg).startsWith("<svg").contains("Soak of 3 min", "embeddings/s (0 to 7500)", "heap after full GC MB");
        Matcher polyline = Pattern.compile("<polyline points=\"([^\"]*)\"").matcher(svg);
        assertThat(polyline.find()).isTrue();
        String[] points = polyline.group(1).split(" ");
        assertThat(points).hasSize(3);
        double[] y = new double[3];
        for (int i = 0; i < 3; i++) {
            y[i] = Double.parseDouble(points[i].split(",")[1]);
        }
        assertThat(y[1]).as("7 500 above 6 000 (SVG y grows downwards)").isLessThan(y[0]);
        assertThat(y[2]).isGreaterThan(y[1]).isLessThan(y[0]);
        assertThat(polyline.find()).as("the second panel").isTrue();
        assertThat(polyline.group(1).split(" ")).as("only the minute with a figure").hasSize(1);
    }

    @Test
    void textWithoutATableIsRefused() {
        assertThatThrownBy(() -> SoakChart.fromTable(List.of("no table here"))).isInstanceOf(IllegalArgumentException.class);
    }
}
