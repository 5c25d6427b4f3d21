# sessiontap image: the ext_proc server (default command) and the mock LLM upstream (another command).
# Build stage compiles TypeScript; the runtime stage carries production dependencies only and runs as
# the unprivileged `node` user.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# tsc needs no install scripts (they only fetch or check optional native helpers).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# Only src/ goes into the image: bench/ and test/ are not compiled here.
RUN echo '{ "extends": "./tsconfig.json", "include": ["src/**/*.ts"] }' > tsconfig.image.json \
  && npx tsc -p tsconfig.image.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# In a container the servers must listen beyond loopback; the embedded PGlite (used only when
# DATABASE_URL is unset) keeps its files in the /data volume.
ENV NODE_ENV=production \
    SESSIONTAP_GRPC_ADDRESS=0.0.0.0:50051 \
    SESSIONTAP_HTTP_ADDRESS=0.0.0.0:9090 \
    SESSIONTAP_DATA_DIR=/data
WORKDIR /app
# The repository layout is kept (dist/, proto/, migrations/ beside package.json): sessiontap finds its
# protos and migrations relative to its own files.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY proto ./proto
COPY migrations ./migrations
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 50051 9090
# No curl in the slim image: node itself asks /healthz on the port SESSIONTAP_HTTP_ADDRESS names.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const port = (process.env.SESSIONTAP_HTTP_ADDRESS || ':9090').split(':').pop(); fetch('http://127.0.0.1:' + port + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js", "serve"]
