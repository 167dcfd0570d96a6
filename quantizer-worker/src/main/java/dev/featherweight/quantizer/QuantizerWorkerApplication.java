package dev.featherweight.quantizer;

import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
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
import java.time.Duration;

/** quantizer-worker: one functional consumer (fw.tasks.quantize) handing tasks to the {@link TaskRuntime}. */
@SpringBootApplication
@Import(WorkerConfiguration.class)
public class QuantizerWorkerApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(QuantizerWorkerApplication.class).properties("spring.config.name=quantizer-worker").run(args);
    }

    @Bean
    @ConditionalOnMissingBean
    public QuantizationEngine quantizationEngine(@Value("${featherweight.worker.calibration:}") String calibration) {
        return new KernelsQuantizationEngine(calibration.isBlank() ? null : Path.of(calibration));
    }

    @Bean
    public Gpu simulatedGpu(@Value("${featherweight.worker.gpu:A100-40GB-PCIe}") String name) {
        return GpuCatalog.builtIn().get(name); // the catalogue's GPUs (gpus.json)
    }

    @Bean
    public QuantizeHandler quantizeHandler(QuantizationEngine engine, RegistryClient registry, Gpu gpu,
                                           @Value("${featherweight.worker.work-dir:${java.io.tmpdir}/featherweight-work}") Path workDir,
                                           @Value("${featherweight.worker.block-delay:0ms}") Duration blockDelay) {
        return new QuantizeHandler(engine, registry, gpu, workDir, blockDelay);
    }

    /** The binding's consumer: returns as soon as the task is handed to the runtime's executor. */
    @Bean
    public TaskRuntime quantize(QuantizeHandler handler, Events events, JobsClient jobs, ObjectProvider<BindingsLifecycleController> bindings,
                                Gpu gpu, @Value("${featherweight.worker.name:quantizer-${random.uuid}}") String worker,
                                @Value("${featherweight.worker.concurrency:1}") int concurrency, MeterRegistry meters) {
        return new TaskRuntime(handler, events, jobs, bindings, "quantize-in-0", worker, gpu.name(), concurrency, meters);
    }
}
