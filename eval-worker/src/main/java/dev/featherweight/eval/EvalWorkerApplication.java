package dev.featherweight.eval;

import dev.featherweight.worker.Events;
import dev.featherweight.service.JobsApi;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskRuntime;
import dev.featherweight.worker.WorkerConfiguration;
import dev.featherweight.worker.WorkerProperties;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.stream.binding.BindingsLifecycleController;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/** eval-worker: one functional consumer (fw.tasks.eval) handing tasks to the {@link TaskRuntime}. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
@EnableConfigurationProperties(EvalProperties.class)
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
    public EvalHandler evalHandler(EvaluationEngine engine, RegistryClient registry, EvalProperties eval, MeterRegistry meters) {
        return new EvalHandler(engine, registry, eval.textsDir(), meters);
    }

    @Bean
    public TaskRuntime evaluate(EvalHandler handler, Events events, JobsApi jobs, ObjectProvider<BindingsLifecycleController> bindings,
                                WorkerProperties worker, MeterRegistry meters) {
        return new TaskRuntime(handler, events, jobs, bindings, "evaluate-in-0", worker.nameOr("eval"), "cpu", worker.concurrency(), meters);
    }
}
