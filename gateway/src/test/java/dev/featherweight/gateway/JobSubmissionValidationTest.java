package dev.featherweight.gateway;

import dev.featherweight.service.InternalClients;
import dev.featherweight.service.InternalHttpProperties;
import dev.featherweight.service.JobsApi;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.util.unit.DataSize;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * What the gateway refuses before anything leaves it: invalid job bodies (400 problem+json listing every
 * problem with its JSON path), bodies that are not JSON, bad headers and query values. The registry, the
 * job-service and Kafka point at a closed port: a request that got past validation would fail with 5xx.
 */
class JobSubmissionValidationTest {
    MockMvc mvc;

    @AfterEach
    void signOut() {
        SecurityContextHolder.clearContext();
    }

    @BeforeEach
    void gateway() {
        // a tenant's key, as the gateway's security chain would have authenticated it
        SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated(new Auth.Caller("t-1", false), null, List.of()));
        InternalClients clients = new InternalClients(new InternalHttpProperties.Http(Duration.ofMillis(200), Duration.ofSeconds(1), 0, Duration.ZERO), List.of());
        URI nowhere = URI.create("http://127.0.0.1:9");
        RegistryApi registry = clients.client(RegistryApi.class, clients.restClient(nowhere));
        JobsApi jobs = clients.client(JobsApi.class, clients.restClient(nowhere));
        KafkaTemplate<String, String> kafka = new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(Map.of("bootstrap.servers", "127.0.0.1:9")));
        GatewayProperties settings = new GatewayProperties("admin", "A100-40GB-PCIe", new GatewayProperties.Hub(URI.create("http://127.0.0.1:9")),
                new GatewayProperties.Limits(DataSize.ofKilobytes(256), Duration.ofMinutes(1)));
        RecipeValidation recipes = new RecipeValidation(registry, new RegistryFiles(clients.restClient(nowhere)), settings);
        JobController controller = new JobController(kafka, registry, jobs, new JobEvents(), new SimpleMeterRegistry(), settings, recipes,
                new TenantLimits(clients.restClient(nowhere), clients.restClient(nowhere)));
        mvc = MockMvcBuilders.standaloneSetup(controller).setControllerAdvice(new Problems()).build();
    }

    static MockHttpServletRequestBuilder submit(String body) {
        return post("/api/v1/jobs").contentType(MediaType.APPLICATION_JSON).content(body);
    }

    @Test
    void anInvalidJobIsRefusedWithEveryProblemNamedByItsJsonPath() throws Exception {
        mvc.perform(submit("""
                        {"modelId":"", "recipes":[{"method":"gguf","fileType":"Q9_9"}], "eval":{"capacity":{"gpus":["L4"],"ctx":0,"kvDtype":"f16"}}}"""))
                .andExpect(status().isBadRequest())
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.status").value(400))
                .andExpect(jsonPath("$.type").value(containsString("https://featherweight.dev/problems/")))
                .andExpect(jsonPath("$.errors.length()").value(greaterThanOrEqualTo(3)))
                .andExpect(content().string(containsString("modelId")))
                .andExpect(content().string(containsString("recipes[0]")))
                .andExpect(content().string(containsString("eval.capacity.ctx")));
    }

    /** A GGUF file type llama-quantize refuses without an importance matrix is refused at submit, naming the imatrix field. */
    @Test
    void anIqTypeThatNeedsAnImatrixIsRefusedWithoutOne() throws Exception {
        mvc.perform(submit("{\"modelId\":\"feather-3m\",\"recipes\":[{\"method\":\"gguf\",\"fileType\":\"IQ3_XXS\"}]}"))
                .andExpect(status().isBadRequest())
                .andExpect(content().string(containsString("recipes[0].imatrix")))
                .andExpect(content().string(containsString("IQ3_XXS needs an importance matrix")));
    }

    @Test
    void aJobWithoutRecipesIsRefused() throws Exception {
        mvc.perform(submit("{\"modelId\":\"feather-3m\",\"recipes\":[]}"))
                .andExpect(status().isBadRequest())
                .andExpect(content().string(containsString("recipes")));
    }

    @Test
    void aBodyThatIsNotJsonIsAProblemNotAServerError() throws Exception {
        mvc.perform(submit("{\"modelId\": feather"))
                .andExpect(status().isBadRequest())
                .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .andExpect(jsonPath("$.detail").value(containsString("not valid JSON")));
    }

    @Test
    void anOverlongIdempotencyKeyIsRefused() throws Exception {
        mvc.perform(submit("{\"modelId\":\"feather-3m\",\"recipes\":[{\"method\":\"gguf\",\"fileType\":\"Q8_0\"}]}")
                        .header("Idempotency-Key", "k".repeat(201)))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail").value(containsString("Idempotency-Key")));
    }

    @Test
    void listingByAnUnknownStateIsRefusedWithTheKnownOnes() throws Exception {
        mvc.perform(get("/api/v1/jobs").param("state", "DONE"))
                .andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail").value(containsString("SUBMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED")));
    }
}
