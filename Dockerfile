# preview-gate gateway image: build once (browser bundles + dist/lib), run with production
# dependencies only. No build step and no dev dependency at start.
#   docker build -t preview-gate .
#   docker run -p 8787:8787 -e GATE_USER_JWT_SECRET=... -e DAYTONA_API_KEY=... \
#     -e GATE_PREVIEW_DOMAIN=preview.example.com -e GATE_PUBLIC_SCHEME=https -e GATE_PUBLIC_PORT= \
#     -e GATE_SIGNING_KEYS="$(npx preview-gate keys)" preview-gate
# TLS and wildcard DNS are the reverse proxy's job: docs/reverse-proxy.md.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
# The package as published: `npm pack` runs prepack (npm run build:package).
RUN npm pack --pack-destination /pkg && mv /pkg/preview-gate-*.tgz /pkg/preview-gate.tgz

FROM node:20-bookworm-slim
ENV NODE_ENV=production GATE_HOST=0.0.0.0 GATE_PORT=8787
# The V8 flag `npm run gateway` sets: 8 MB semi-spaces keep the peak resident memory under load
# under 100 MB instead of ~110 at the same CPU; 4 MB (the earlier setting) now costs ~20% more CPU
# (broker/node/bundle.mjs, docs/benchmarks.md hot path "Round 7").
# (The old-generation headroom for transfers needs no flag: the gateway sets it at runtime,
# broker/node/v8-heap.ts, GATE_HEAP_HEADROOM_MB; docs/benchmarks.md "Round 6".)
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=build /pkg/preview-gate.tgz /tmp/
RUN echo '{"name":"preview-gate-app","private":true,"type":"module"}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/preview-gate.tgz \
 && rm /tmp/preview-gate.tgz && npm cache clean --force
USER node
EXPOSE 8787
# /healthz is liveness (and names the version).
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8787/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/app/node_modules/.bin/preview-gate"]
CMD ["gateway"]
