# vast-mcp as a static binary in a minimal, non-root image.
#   docker build -t ghcr.io/vast-mcp/vast-mcp:$(cat gen/VERSION) .
# The default command serves streamable HTTP on port 8080, which needs
# VAST_MCP_HTTP_TOKEN (a non-loopback address is refused without one);
# give other arguments, e.g. --transport stdio, to replace it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/vast-mcp ./cmd/vast-mcp

# distroless/static: CA certificates for https://console.vast.ai, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
LABEL io.modelcontextprotocol.server.name="io.github.vast-mcp/vast-mcp" \
      org.opencontainers.image.source="https://github.com/vast-mcp/vast-mcp" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /out/vast-mcp /usr/local/bin/vast-mcp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vast-mcp"]
CMD ["--transport", "http", "--addr", "0.0.0.0:8080"]
