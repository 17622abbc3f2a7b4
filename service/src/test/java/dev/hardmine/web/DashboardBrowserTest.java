package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.demo.Demo;
import dev.hardmine.demo.SyntheticTrainers;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.Select;

/**
 * The live dashboard in a real headless browser (Debian's chromium through its chromium-driver,
 * which {@code .ci/run} installs) during a demo with two jobs and a token: every chart is drawn
 * with data, the confusion tile and the table of confusable pairs are filled from the neighbours
 * topic, the numbers move without a reload, the job picker switches job, and a screenshot is
 * saved to {@code target/dashboard.png} (the README's picture is such a screenshot). The page
 * takes a token from its address ({@code http://HOST:PORT/#token=TOKEN}) and asks for another
 * when the API refuses it.
 */
class DashboardBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final List<String> CHARTS = List.of("losses", "hardness", "distances", "throughput", "latency",
            "memory", "staleness", "lag", "deadletters", "gap-histogram");

    private static final String TOKEN = "browser-test-token";
    private static Demo demo;
    private static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        assertThat(new File(CHROMIUM).canExecute()).as("Debian's chromium (apt-get install chromium)").isTrue();
        assertThat(new File(CHROMEDRIVER).canExecute()).as("Debian's chromium-driver (apt-get install chromium-driver)")
                .isTrue();
        demo = Demo.start(new Demo.Settings(0, 0, 0, "127.0.0.1", null, true,
                new SyntheticTrainers.Settings("demo-job", 2, 8, 4, 8, Duration.ofMillis(150), 11), 2,
                300, 6, 32, 300, MiningSettings.defaults(), MemoryLimits.defaults(), new NeighborSettings(8, 200), null, TOKEN));

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--no-first-run",
                "--window-size=1400,1500");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (demo != null) {
            demo.close();
        }
    }

    private static int points(String chart) {
        String v = browser.findElement(By.cssSelector("[data-chart='" + chart + "']")).getAttribute("data-points");
        return v == null ? 0 : Integer.parseInt(v);
    }

    private static Map<String, Integer> allPoints() {
        return CHARTS.stream().collect(Collectors.toMap(c -> c, DashboardBrowserTest::points));
    }

    private static String tiles() {
        return browser.findElements(By.cssSelector("#tiles .value")).stream().map(WebElement::getText)
                .collect(Collectors.joining(" | "));
    }

    @Test
    void chartsDrawLiveDataTheNumbersMoveAndTheJobPickerSwitchesJob() throws Exception {
        assertThat(status("api/jobs", null)).isEqualTo(401);
        // A wrong token in the address: the page asks for the right one.
        browser.get(demo.dashboardUrl() + "#token=wrong");
        WebElement login = browser.findElement(By.id("login"));
        await().atMost(Duration.ofSeconds(15)).until(login::isDisplayed);
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        login.submit();
        await().atMost(Duration.ofSeconds(15)).until(() -> !login.isDisplayed());
        assertThat(browser.manage().logs().get(LogType.BROWSER).getAll()).as("the refusals of the wrong token")
                .allSatisfy(e -> assertThat(e.getMessage()).contains("401"));

        // Every chart drawn, with data, on a canvas of the charting library.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(allPoints()).allSatisfy((chart, n) ->
                        assertThat(n).as(chart).isPositive()));
        for (String chart : CHARTS) {
            assertThat(browser.findElements(By.cssSelector("[data-chart='" + chart + "'] canvas")))
                    .as("canvas of " + chart).isNotEmpty();
        }
        assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("live");

        // The confusion tile and the table of pairs come from the neighbours topic (the demo keeps 8
        // confusable identities per identity): with at most 8, the concentration is within [1/8, 1].
        String shown = new Select(browser.findElement(By.id("job"))).getFirstSelectedOption().getAttribute("value");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            String concentration = browser.findElement(By.id("kpi-concentration")).getText();
            assertThat(concentration).matches("0\\.\\d+|1");
            assertThat(Double.parseDouble(concentration)).isBetween(0.125, 1.0);
            assertThat(browser.findElement(By.id("kpi-concentration-identities")).getText()).matches("\\d+ identities");
            assertThat(browser.findElement(By.cssSelector("[data-table='confusable-pairs']")).getAttribute("data-rows"))
                    .isEqualTo("5");
        });
        JsonNode neighbors = JSON.readTree(get("api/jobs/" + shown + "/neighbors"));
        assertThat(neighbors.get("identities").asInt()).isPositive();
        assertThat(neighbors.get("concentration").asDouble()).isBetween(0.125, 1.0);

        // The numbers change without a reload within 10 s.
        String before = tiles();
        assertThat(before).doesNotContain("–");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> !tiles().equals(before));

        // The memory tile comes from the miner's state store, through the memory API.
        JsonNode memory = JSON.readTree(get("api/jobs/demo-job/memory"));
        assertThat(memory.get("size").asLong()).isPositive();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> browser.findElement(By.id("kpi-memory-steps")).getText().startsWith("steps "));

        // Switching job loads the other job's windows.
        Select job = new Select(browser.findElement(By.id("job")));
        await().atMost(Duration.ofSeconds(30)).until(() -> job.getOptions().size() == 2);
        String first = job.getFirstSelectedOption().getAttribute("value");
        String other = first.equals("demo-job") ? "demo-job-2" : "demo-job";
        job.selectByValue(other);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(browser.findElement(By.tagName("body")).getAttribute("data-job")).isEqualTo(other);
            assertThat(points("losses")).isPositive();
            assertThat(points("gap-histogram")).isPositive();
        });
        assertThat(browser.getCurrentUrl()).as("no reload, and the token out of the address bar")
                .isEqualTo(demo.dashboardUrl());
        String otherJobWindows = get("api/jobs/" + other + "/stats?since=0");
        assertThat(JSON.readTree(otherJobWindows)).isNotEmpty();

        // Let the charts fill a little for the picture, then save it.
        await().atMost(Duration.ofSeconds(30)).until(() -> points("losses") >= 8);
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Path target = Path.of("target", "dashboard.png");
        Files.createDirectories(target.getParent());
        Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
        assertThat(Files.size(target)).isGreaterThan(20_000);

        List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
        assertThat(errors).as("errors in the browser's console").isEmpty();
    }

    private static HttpResponse<String> request(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(demo.dashboardUrl() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int status(String path, String token) throws Exception {
        return request(path, token).statusCode();
    }

    private static String get(String path) throws Exception {
        HttpResponse<String> r = request(path, TOKEN);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }
}
