package dev.featherweight.quantizer;

import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
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


/** quantizer-worker: one functional consumer (fw.tasks.quantize) handing tasks to the {@link TaskRuntime}. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
@EnableConfigurationProperties(QuantizerProperties.class)
public class QuantizerWorkerApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(QuantizerWorkerApplication.class).properties("spring.config.name=quantizer-worker").run(args);
    }

    @Bean
    @ConditionalOnMissingBean
    public QuantizationEngine quantizationEngine(QuantizerProperties quantizer) {
        return new KernelsQuantizationEngine(quantizer.calibration());
    }

    @Bean
    public Gpu simulatedGpu(QuantizerProperties quantizer) {
        return GpuCatalog.builtIn().get(quantizer.gpu()); // the catalogue's GPUs (gpus.json)
    }

    @Bean
    public QuantizeHandler quantizeHandler(QuantizationEngine engine, RegistryClient registry, Gpu gpu, QuantizerProperties quantizer) {
        return new QuantizeHandler(engine, registry, gpu, quantizer.workDir(), quantizer.blockDelay());
    }

    /** The binding's consumer: returns as soon as the task is handed to the runtime's executor. */
    @Bean
    public TaskRuntime quantize(QuantizeHandler handler, Events events, JobsApi jobs, ObjectProvider<BindingsLifecycleController> bindings,
                                Gpu gpu, WorkerProperties worker, MeterRegistry meters) {
        return new TaskRuntime(handler, events, jobs, bindings, "quantize-in-0", worker.nameOr("quantizer"), gpu.name(), worker.concurrency(), meters);
    }
}
