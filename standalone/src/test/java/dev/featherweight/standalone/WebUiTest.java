package dev.featherweight.standalone;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web UI in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium; no browser
 * download) against the whole standalone platform: sign in, upload feather-3m, a GGUF Q4_K_M + GPTQ 4-bit job
 * with perplexity and capacity watched live to SUCCEEDED, the comparison, a download checked against the
 * registry's sha256; and the error flows: a wrong key, an invalid recipe (inline message, nothing submitted),
 * cancel. Elements are found by their accessible names (labels, button texts, roles) as a screen reader
 * would; every step leaves a screenshot in target/screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebUiTest extends PlatformTestBase {
    static final Path SHOTS = Path.of("target/screenshots");
    WebDriver browser;
    Path downloads;
    ApiClient api;

    @Override
    Map<String, String> overrides() {
        Map<String, String> m = new java.util.HashMap<>(super.overrides());
        m.put("featherweight.eval.texts-dir", REPO.resolve("models").toString());
        m.put("featherweight.worker.calibration", REPO.resolve("models/demo-stories.txt").toString());
        return m;
    }

    @BeforeAll
    void startBrowser() throws Exception {
        api = tenant("web");
        downloads = Files.createTempDirectory("fw-downloads");
        Files.createDirectories(SHOTS);
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,900",
                "--user-data-dir=" + Files.createTempDirectory("fw-chromium"));
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(), "download.prompt_for_download", false));
        // the driver's path is given, so Selenium Manager never looks for (or downloads) a driver or a browser
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver")).build();
        browser = new ChromeDriver(service, options);
        browser.manage().window().setSize(new Dimension(1400, 900));
    }

    @AfterAll
    void stopBrowser() {
        if (browser != null) browser.quit();
    }

    @Test
    @Order(1)
    void aWrongKeyIsRefusedWithTheProblemShown() throws Exception {
        browser.get(platform.gatewayUrl() + "/");
        field("API key").sendKeys("fw_not-a-key");
        button("Sign in").click();
        WebElement alert = waitFor(By.cssSelector("#signin-error [role=alert]"));
        assertThat(alert.getText()).contains("Unauthorized").contains("unknown API key");
        assertThat(browser.manage().getCookieNamed("FW_SESSION")).isNull();
        shot("01-sign-in-wrong-key");
    }

    @Test
    @Order(2)
    void uploadSubmitWatchCompareAndDownload() throws Exception {
        signIn();
        link("Models").click();
        waitFor(By.xpath("//h1[.='Models']"));
        field("Model name").sendKeys("feather-3m");
        try (Stream<Path> files = Files.list(FEATHER)) {
            field("Model files").sendKeys(files.map(Path::toString).sorted().collect(Collectors.joining("\n")));
        }
        shot("02-upload-chosen");
        button("Upload").click();
        waitFor(By.xpath("//h1[.='feather-3m']"));
        WebElement upload = browser.findElements(By.id("upload-progress")).stream().findFirst().orElse(null);
        assertThat(upload).as("the model page replaced the upload form").isNull();
        assertThat(text()).contains("READY").contains("Parameters").contains("Heads / KV heads");
        JsonNode model = api.get("/api/v1/models/feather-3m").json();
        assertThat(model.path("state").asString()).isEqualTo("READY");
        try (Stream<Path> files = Files.list(FEATHER)) {
            assertThat(model.path("files")).hasSize((int) files.count());
        }
        shot("03-model-page");

        link("New job").click();
        new Select(field("Model")).selectByVisibleText("feather-3m");
        button("Add recipe").click();
        new Select(field("Method")).selectByValue("gguf");
        new Select(field("File type")).selectByVisibleText("Q4_K_M");
        button("GPTQ 4-bit g128").click();
        assertThat(browser.findElements(By.cssSelector("fieldset.recipe"))).hasSize(2);
        WebElement samples = field("Calibration samples"); // a short calibration: the test is about the UI, not GPTQ's accuracy
        samples.clear();
        samples.sendKeys("16");
        WebElement ctx = field("Perplexity context");
        ctx.clear();
        ctx.sendKeys("64");
        WebElement chunks = field("Chunks");
        chunks.clear();
        chunks.sendKeys("4");
        assertThat(button("Submit job").getAccessibleName()).isEqualTo("Submit job");
        // the pre-flight: both recipes estimated against the worker's simulated GPU before anything is submitted
        await(Duration.ofSeconds(30), () -> browser.findElements(By.xpath("//div[@id='preflight']//td[.='fits' or .='does not fit']")).size() == 2);
        browser.manage().window().setSize(new Dimension(1400, 1900)); // the whole form in one picture
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0)");
        shot("04-new-job");
        browser.manage().window().setSize(new Dimension(1400, 900));
        button("Submit job").click();

        waitFor(By.id("job-state"));
        String jobId = browser.findElement(By.tagName("h1")).getText().substring(4);
        ((JavascriptExecutor) browser).executeScript("window.stillTheSamePage = true");
        List<WebElement> bars = browser.findElements(By.cssSelector("[role=progressbar]"));
        assertThat(bars).hasSizeGreaterThanOrEqualTo(2);
        String firstState = browser.findElement(By.id("job-state")).getText();
        await(Duration.ofMinutes(15), () -> browser.findElement(By.id("job-state")).getText().equals("SUCCEEDED"));
        // the page changed without a reload: the events moved it from its first state to SUCCEEDED
        assertThat(((JavascriptExecutor) browser).executeScript("return window.stillTheSamePage === true")).isEqualTo(true);
        assertThat(firstState).isNotEqualTo("SUCCEEDED");
        List<WebElement> taskStates = browser.findElements(By.cssSelector("[data-task-state]"));
        assertThat(taskStates).hasSizeGreaterThanOrEqualTo(2).allSatisfy(s -> assertThat(s.getText()).isEqualTo("SUCCEEDED"));
        assertThat(browser.findElements(By.cssSelector("[role=progressbar]"))).allSatisfy(b -> assertThat(b.getAttribute("aria-valuenow")).isEqualTo("100"));
        assertThat(api.get("/api/v1/jobs/" + jobId).json().path("state").asString()).isEqualTo("SUCCEEDED");
        waitFor(By.linkText("Compare these 2 artifacts"));
        shot("05-job-succeeded");

        link("Compare these 2 artifacts").click();
        WebElement scatter = waitFor(By.cssSelector("svg.scatter"));
        assertThat(scatter.getAccessibleName()).startsWith("Size vs perplexity");
        assertThat(scatter.findElements(By.cssSelector("g.point"))).hasSize(2);
        assertThat(browser.findElements(By.cssSelector("svg.bars"))).hasSize(1);
        WebElement table = browser.findElement(By.id("compare-table"));
        List<String> headers = table.findElements(By.cssSelector("thead th")).stream().map(WebElement::getText).toList();
        assertThat(headers).contains("Size", "Perplexity");
        assertThat(table.findElements(By.cssSelector("tbody tr"))).hasSize(2);
        shot("06-compare");

        JsonNode gguf = null;
        for (JsonNode a : artifactsOf(api, jobId)) if (a.path("method").asString().equals("gguf")) gguf = a;
        assertThat(gguf).isNotNull();
        browser.get(platform.gatewayUrl() + "/#/artifacts/" + gguf.path("id").asString());
        String file = gguf.path("files").get(0).path("path").asString();
        waitFor(By.linkText("Download " + file)).click();
        Path downloaded = downloads.resolve(file);
        await(Duration.ofMinutes(1), () -> Files.isRegularFile(downloaded) && !Files.exists(downloads.resolve(file + ".crdownload")));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(downloaded)));
        assertThat(sha).isEqualTo(gguf.path("files").get(0).path("sha256").asString());
        shot("07-artifact");
    }

    @Test
    @Order(3)
    void anInvalidRecipeIsShownNextToItsFieldAndNothingIsSubmitted() throws Exception {
        signIn();
        long before = api.get("/api/v1/jobs").json().path("total").asLong();
        browser.get(platform.gatewayUrl() + "/#/jobs/new?model=feather-3m");
        button("Add recipe").click();
        new Select(field("Method")).selectByValue("gptq");
        WebElement damp = field("Damp");
        damp.clear();
        damp.sendKeys("2");
        button("Submit job").click();
        WebElement message = waitFor(By.xpath("//*[@id='" + damp.getAttribute("id") + "-error' and normalize-space(.) != '']"));
        assertThat(message.getText()).contains("2");
        assertThat(damp.getAttribute("aria-invalid")).isEqualTo("true");
        assertThat(browser.getCurrentUrl()).endsWith("#/jobs/new?model=feather-3m");
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isEqualTo(before);
        shot("08-invalid-recipe");
    }

    @Test
    @Order(4)
    void cancelAfterConfirmation() throws Exception {
        signIn();
        browser.get(platform.gatewayUrl() + "/#/jobs/new?model=feather-3m");
        button("every GGUF K-mix").click(); // a long sweep, so that it is still running when the cancel arrives
        button("Submit job").click();
        waitFor(By.id("job-state"));
        button("Cancel job").click();
        WebElement dialog = waitFor(By.cssSelector("dialog[open]"));
        shot("09-cancel-confirm");
        dialog.findElement(By.xpath(".//button[.='Cancel job']")).click();
        await(Duration.ofMinutes(3), () -> browser.findElement(By.id("job-state")).getText().equals("CANCELLED"));
        assertThat(browser.findElements(By.xpath("//button[.='Cancel job']")).stream().filter(WebElement::isDisplayed)).isEmpty();
        shot("10-cancelled");
    }

    @Test
    @Order(5)
    void phoneWidthAndKeyboard() throws Exception {
        signIn();
        browser.manage().window().setSize(new Dimension(390, 844));
        try {
            browser.get(platform.gatewayUrl() + "/#/compare?model=feather-3m");
            waitFor(By.cssSelector("svg.scatter"));
            long overflow = (Long) ((JavascriptExecutor) browser).executeScript("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
            assertThat(overflow).as("no horizontal scrolling of the page at a phone width").isLessThanOrEqualTo(0);
            shot("11-compare-phone");
            // keyboard: Tab from the top reaches the skip link, then the navigation in order
            browser.get(platform.gatewayUrl() + "/#/models");
            waitFor(By.xpath("//h1[.='Models']"));
            browser.findElement(By.tagName("body")).sendKeys(Keys.TAB);
            assertThat(browser.switchTo().activeElement().getText()).isEqualTo("Skip to content");
            browser.switchTo().activeElement().sendKeys(Keys.TAB);
            browser.switchTo().activeElement().sendKeys(Keys.TAB);
            assertThat(browser.switchTo().activeElement().getAccessibleName()).isEqualTo("Models");
            browser.switchTo().activeElement().sendKeys(Keys.TAB);
            browser.switchTo().activeElement().sendKeys(Keys.ENTER);
            waitFor(By.xpath("//h1[.='Jobs']"));
        } finally {
            browser.manage().window().setSize(new Dimension(1400, 900));
        }
    }

    @Test
    @Order(6)
    void theSessionCookieNeedsTheCsrfTokenForUnsafeRequestsAndSignOutEndsIt() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().cookieHandler(new java.net.CookieManager()).build();
        java.util.function.Function<String, java.net.http.HttpRequest.Builder> at = path -> java.net.http.HttpRequest.newBuilder(java.net.URI.create(platform.gatewayUrl() + path));
        var json = java.net.http.HttpRequest.BodyPublishers.ofString("{\"apiKey\":\"" + api.key() + "\"}");
        var signIn = http.send(at.apply("/api/v1/session").header("Content-Type", "application/json").POST(json).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(signIn.statusCode()).isEqualTo(204);
        assertThat(signIn.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("FW_SESSION=").contains("HttpOnly").contains("SameSite=Strict"))
                .anySatisfy(c -> assertThat(c).startsWith("XSRF-TOKEN=").doesNotContain("HttpOnly"));
        String csrf = ((java.net.CookieManager) http.cookieHandler().orElseThrow()).getCookieStore().getCookies().stream()
                .filter(c -> c.getName().equals("XSRF-TOKEN")).findFirst().orElseThrow().getValue();
        var who = http.send(at.apply("/api/v1/session").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(ApiClient.JSON.readTree(who.body()).path("tenant").asString()).isEqualTo(tenantIdOf("web"));
        assertThat(ApiClient.JSON.readTree(who.body()).path("admin").asBoolean()).isFalse();
        var body = java.net.http.HttpRequest.BodyPublishers.ofString("{}");
        var noToken = http.send(at.apply("/api/v1/jobs").header("Content-Type", "application/json").POST(body).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).as(noToken.body()).isEqualTo(403);
        var withToken = http.send(at.apply("/api/v1/jobs").header("Content-Type", "application/json").header("X-XSRF-TOKEN", csrf).POST(body).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(withToken.statusCode()).as(withToken.body()).isEqualTo(400); // past authentication and CSRF: the empty job is invalid
        var signOut = http.send(at.apply("/api/v1/session").header("X-XSRF-TOKEN", csrf).DELETE().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(signOut.statusCode()).isEqualTo(204);
        assertThat(http.send(at.apply("/api/v1/models").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    }

    @Test
    @Order(7)
    void recommendFromTheModelPageShowsTheParetoChartTheAnswerAndTheChosenArtifact() throws Exception {
        signIn();
        browser.get(platform.gatewayUrl() + "/#/models/feather-3m");
        link("Recommend").click();
        waitFor(By.xpath("//h1[.='Recommend a quantization']"));
        for (WebElement c : browser.findElements(By.cssSelector(".candidates input[type=checkbox]"))) // two cheap candidates
            if (c.isSelected() != List.of("gguf Q4_K_M", "gguf Q8_0").contains(c.getAccessibleName())) c.click();
        WebElement budget = field("Budget");
        budget.clear();
        budget.sendKeys("1");
        WebElement chunks = field("Chunks (0 = all)");
        chunks.clear();
        chunks.sendKeys("2");
        shot("12-recommend-form");
        button("Recommend").click();

        waitFor(By.id("rec-state"));
        await(Duration.ofMinutes(10), () -> browser.findElement(By.id("rec-state")).getText().equals("SUCCEEDED"));
        WebElement scatter = waitFor(By.cssSelector("svg.scatter"));
        assertThat(scatter.getAccessibleName()).startsWith("Size vs KLD");
        assertThat(scatter.findElements(By.cssSelector("g.point"))).hasSize(2);
        assertThat(scatter.findElements(By.cssSelector("g.recommended"))).hasSize(1);
        assertThat(browser.findElements(By.cssSelector("#candidates tbody tr"))).hasSize(2);
        String id = browser.getCurrentUrl().substring(browser.getCurrentUrl().lastIndexOf('/') + 1);
        JsonNode answer = api.get("/api/v1/recommendations/" + id).json();
        assertThat(browser.findElement(By.id("recommended")).getText()).isEqualTo("Recommended: " + answer.path("recommended").asString());
        assertThat(browser.findElement(By.id("reasons")).getText()).isEqualTo(answer.path("reasons").asString());
        assertThat(waitFor(By.id("download-chosen")).getAttribute("href"))
                .contains("/api/v1/artifacts/" + answer.path("recommendedArtifactId").asString() + "/download?path=");
        shot("13-recommendation");
    }

    String tenantIdOf(String name) {
        try {
            for (JsonNode t : admin.get("/api/v1/admin/tenants").json()) if (t.path("name").asString().equals(name)) return t.path("id").asString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no tenant " + name);
    }

    // ---- helpers: elements by their accessible names ----

    void signIn() {
        browser.get(platform.gatewayUrl() + "/");
        waitFor(By.cssSelector("#signin, nav[aria-label=Main] a"));
        if (!browser.findElements(By.id("signin")).isEmpty()) {
            field("API key").sendKeys(api.key());
            button("Sign in").click();
        }
        waitFor(By.xpath("//nav[@aria-label='Main']//a[.='Models']"));
        assertThat(browser.manage().getCookieNamed("FW_SESSION").isHttpOnly()).isTrue();
    }

    /** The form control labelled {@code label} (the last one, for a label repeated per recipe). */
    WebElement field(String label) {
        List<WebElement> labels = waitForAll(By.xpath("//label[normalize-space(.)='" + label + "']"));
        WebElement control = browser.findElement(By.id(labels.getLast().getAttribute("for")));
        assertThat(control.getAccessibleName()).isEqualTo(label);
        return control;
    }

    WebElement button(String name) {
        return waitFor(By.xpath("//button[normalize-space(.)='" + name + "']"));
    }

    WebElement link(String name) {
        return waitFor(By.xpath("//a[normalize-space(.)='" + name + "']"));
    }

    String text() {
        return browser.findElement(By.tagName("main")).getText();
    }

    WebElement waitFor(By by) {
        try {
            return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElements(by).stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
        } catch (org.openqa.selenium.TimeoutException e) {
            failureShot();
            throw new AssertionError("no visible " + by + " within 30 s; the page shows: " + text(), e);
        }
    }

    void failureShot() {
        try {
            shot("failure-" + System.currentTimeMillis());
        } catch (Exception ignored) { // the assertion error that follows says what went wrong
        }
    }

    List<WebElement> waitForAll(By by) {
        return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> {
            List<WebElement> found = d.findElements(by);
            return found.isEmpty() ? null : found;
        });
    }

    void await(Duration timeout, java.util.function.BooleanSupplier condition) {
        try {
            // the pages re-render while a job runs: an element read between two renders is stale, so look again
            new WebDriverWait(browser, timeout, Duration.ofMillis(200)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                    .until(d -> condition.getAsBoolean());
        } catch (org.openqa.selenium.TimeoutException e) {
            failureShot();
            throw new AssertionError("condition not met within " + timeout + "; the page shows: " + text(), e);
        }
    }

    void shot(String name) throws Exception {
        byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(SHOTS.resolve(name + ".png"), png);
    }
}
