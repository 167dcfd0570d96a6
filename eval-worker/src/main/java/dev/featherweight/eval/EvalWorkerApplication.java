package dev.featherweight.eval;

import dev.featherweight.worker.Events;
import dev.featherweight.worker.JobsClient;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskRuntime;
import dev.featherweight.worker.WorkerConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.stream.binding.BindingsLifecycleController;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

import java.nio.file.Path;

/** eval-worker: one functional consumer (fw.tasks.eval) handing tasks to the {@link TaskRuntime}. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
public class EvalWorkerApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(EvalWorkerApplication.class).properties("spring.config.name=eval-worker").run(args);
    }

    @Bean
    @ConditionalOnMissingBean
    public EvaluationEngine evaluationEngine() {
        return new KernelsEvaluationEngine();
    }

    @Bean
    public EvalHandler evalHandler(EvaluationEngine engine, RegistryClient registry, @Value("${featherweight.eval.texts-dir:models}") Path texts) {
        return new EvalHandler(engine, registry, texts);
    }

    @Bean
    public TaskRuntime evaluate(EvalHandler handler, Events events, JobsClient jobs, ObjectProvider<BindingsLifecycleController> bindings,
                                @Value("${featherweight.worker.name:eval-${random.uuid}}") String worker,
                                @Value("${featherweight.worker.concurrency:1}") int concurrency, MeterRegistry meters) {
        return new TaskRuntime(handler, events, jobs, bindings, "evaluate-in-0", worker, "cpu", concurrency, meters);
    }
}
