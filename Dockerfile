# postctl-server in a container: built here, run from a small image as a non-root user.
#   docker build -t postctl-server .
#   docker run -p 127.0.0.1:8787:8787 -v postctl-data:/var/lib/postctl-server postctl-server
# With PostgreSQL: docker compose up (docker-compose.yml). The environment variables are
# the server's own (postctl-server serve --help lists them). Behind a reverse proxy add
#   -e POSTCTL_SERVER_TRUSTED_PROXIES=10.0.0.0/8   (the proxy's network: it names the client)
# and for traces -e POSTCTL_SERVER_OTLP_ENDPOINT=http://otel-collector:4318

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p postctl-server \
 && install -D -m 0755 target/release/postctl-server /out/postctl-server \
 && install -d -m 0700 -o 65532 -g 65532 /out/data

# glibc, libgcc, CA certificates and a "nonroot" user (65532), without a shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/postctl-server /usr/local/bin/postctl-server
COPY --from=build --chown=65532:65532 /out/data /var/lib/postctl-server
USER 65532:65532
ENV POSTCTL_SERVER_DATA=/var/lib/postctl-server \
    POSTCTL_SERVER_LISTEN=0.0.0.0:8787 \
    POSTCTL_SERVER_LOG_FORMAT=json \
    POSTCTL_SERVER_LOG_LEVEL=info
VOLUME ["/var/lib/postctl-server"]
EXPOSE 8787
ENTRYPOINT ["/usr/local/bin/postctl-server"]
CMD ["serve"]
