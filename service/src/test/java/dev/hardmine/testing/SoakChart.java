package dev.hardmine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The curves of a soak as an SVG: one small panel per column of its table (a markdown table whose
 * first column is the minute), each with its own scale from 0, so that a trend shows as a slope.
 * {@code main(table.md, chart.svg)} draws the table a soak wrote.
 */
public final class SoakChart {
    private static final int PANEL_WIDTH = 420;
    private static final int PANEL_HEIGHT = 150;
    private static final int MARGIN = 48;
    private static final int COLUMNS = 2;

    private SoakChart() {
    }

    /** A column of figures by minute; NaN where a row has none. */
    public record Series(String name, double[] minutes, double[] values) {
    }

    /** The series of a markdown table: its header names them, its first column is the minute. */
    public static List<Series> fromTable(List<String> lines) {
        List<String[]> rows = new ArrayList<>();
        String[] header = null;
        for (String line : lines) {
            if (!line.startsWith("|") || line.startsWith("|---")) {
                continue;
            }
            String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
            if (header == null) {
                header = cells;
            } else {
                rows.add(cells);
            }
        }
        if (header == null) {
            throw new IllegalArgumentException("no table");
        }
        List<Series> out = new ArrayList<>();
        double[] minutes = rows.stream().mapToDouble(r -> Double.parseDouble(r[0].trim())).toArray();
        for (int c = 1; c < header.length; c++) {
            double[] values = new double[rows.size()];
            for (int r = 0; r < rows.size(); r++) {
                String cell = rows.get(r)[c].trim();
                values[r] = cell.isEmpty() || cell.equals("NaN") ? Double.NaN : Double.parseDouble(cell);
            }
            out.add(new Series(header[c].trim(), minutes, values));
        }
        return out;
    }

    public static String svg(String title, List<Series> series) {
        int rows = (series.size() + COLUMNS - 1) / COLUMNS;
        int width = COLUMNS * (PANEL_WIDTH + MARGIN) + MARGIN;
        int height = rows * (PANEL_HEIGHT + MARGIN) + MARGIN;
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
        out.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\">%s</text>%n", MARGIN, escape(title)));
        for (int i = 0; i < series.size(); i++) {
            int x0 = MARGIN + (i % COLUMNS) * (PANEL_WIDTH + MARGIN);
            int y0 = MARGIN + (i / COLUMNS) * (PANEL_HEIGHT + MARGIN);
            panel(out, series.get(i), x0, y0);
        }
        return out.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder out, Series s, int x0, int y0) {
        double maxMinute = 0;
        double maxValue = 0;
        for (int k = 0; k < s.values().length; k++) {
            if (!Double.isNaN(s.values()[k]) && !Double.isInfinite(s.values()[k])) {
                maxValue = Math.max(maxValue, s.values()[k]);
            }
            maxMinute = Math.max(maxMinute, s.minutes()[k]);
        }
        maxValue = maxValue <= 0 ? 1 : maxValue * 1.1;
        maxMinute = Math.max(1, maxMinute);
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s (0 to %s)</text>%n", x0, y0 - 6,
                escape(s.name()), format(maxValue / 1.1)));
        out.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n",
                x0, y0, PANEL_WIDTH, PANEL_HEIGHT));
        StringBuilder points = new StringBuilder();
        for (int k = 0; k < s.values().length; k++) {
            double v = s.values()[k];
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                continue;
            }
            double x = x0 + PANEL_WIDTH * s.minutes()[k] / maxMinute;
            double y = y0 + PANEL_HEIGHT * (1 - v / maxValue);
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        out.append(String.format(Locale.ROOT,
                "<polyline points=\"%s\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>%n", points.toString().trim()));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#666\">0</text>%n", x0, y0 + PANEL_HEIGHT + 14));
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#666\" text-anchor=\"end\">%s min</text>%n",
                x0 + PANEL_WIDTH, y0 + PANEL_HEIGHT + 14, format(maxMinute)));
    }

    private static String format(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** {@code SoakChart table.md chart.svg}: draws a soak's table. */
    public static void main(String[] args) throws IOException {
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        Files.writeString(Path.of(args[1]), svg(lines.get(0), fromTable(lines)));
    }
}
