package dev.featherweight.gateway;

import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.messages.Item;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.InputStream;

/** Imports {@code s3://bucket/prefix} from the S3 endpoint configured under featherweight.import.s3.*. */
@Component
public class S3Import {
    private final MinioClient client;

    public S3Import(S3ImportProperties s3) {
        this.client = MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey()).region("us-east-1").build();
    }

    void copy(String ref, Importer.Sink sink) throws IOException {
        int slash = ref.indexOf('/');
        String bucket = slash < 0 ? ref : ref.substring(0, slash);
        String prefix = slash < 0 ? "" : ref.substring(slash + 1).replaceAll("/*$", "/");
        if (prefix.equals("/")) prefix = "";
        int n = 0;
        try {
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
                Item item = r.get();
                String path = item.objectName().substring(prefix.length());
                if (item.isDir() || !Importer.wanted(path)) continue;
                try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(item.objectName()).build())) {
                    sink.file(path, in);
                }
                n++;
            }
        } catch (ApiException | IOException e) {
            throw e;
        } catch (Exception e) {
            throw new ApiException(HttpStatus.BAD_GATEWAY, "reading s3://" + ref + " failed: " + e.getMessage());
        }
        if (n == 0) throw new ApiException(HttpStatus.NOT_FOUND, "no model files under s3://" + ref);
    }
}
