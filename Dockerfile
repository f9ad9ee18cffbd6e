# Tollgate images: `docker build --target gateway .` and `docker build --target control-plane .`
# (compose/compose.yaml builds both). The build stage compiles TypeScript to dist/; the runtime
# stages hold production dependencies, dist/ and migrations/ only, and run as the unprivileged
# `node` user. Both services handle SIGTERM themselves (the gateway drains for up to 30 s), so they
# work as PID 1; give containers a stop timeout above 30 s (compose sets stop_grace_period).

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY gateway/package.json gateway/
COPY control-plane/package.json control-plane/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY gateway/package.json gateway/
COPY control-plane/package.json control-plane/
# Production dependencies only: no TypeScript, tsx, tap or linters in the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
USER node

FROM runtime AS control-plane
ENV CONTROL_PLANE_PORT=8081
EXPOSE 8081
# /readyz: the process answers and PostgreSQL does. Node's fetch, since the slim image has no curl.
# Six failures 5 s apart (30 s) before `unhealthy` leave room for the start; no --start-period, which
# the Dockerfile linter in CI rejects.
HEALTHCHECK --interval=5s --timeout=4s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CONTROL_PLANE_PORT||8081)+'/readyz',{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/control-plane/src/main.js"]

FROM runtime AS gateway
ENV GATEWAY_PORT=8080 GATEWAY_OPS_PORT=9080
EXPOSE 8080 9080
# /readyz on the ops port: Redis answers and the key set is loaded.
HEALTHCHECK --interval=5s --timeout=4s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GATEWAY_OPS_PORT||9080)+'/readyz',{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The gateway's V8 flags (gateway/src/node-flags.ts), as `npm run start:gateway` passes them.
CMD ["node", "--max-semi-space-size=32", "--min-semi-space-size=32", "--no-memory-reducer", "dist/gateway/src/main.js"]
