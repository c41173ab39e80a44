# hookd: one image for the API server, the delivery worker and the migrations job.
# There is no compile step: the TypeScript runs through tsx (a runtime dependency).
#
#   docker build -t hookd .
#   docker run hookd                                      the server (the default)
#   docker run hookd node --v8-pool-size=1 --import tsx worker/main.ts   the worker
#   docker run hookd npm run db:migrate                   migrations, then exits
#   docker compose up --build        (PostgreSQL, Redis, migrations, server and worker)

# ---- base: Node 20 plus the OpenSSL that Prisma's schema engine needs ----------------------
FROM node:20-bookworm-slim AS base
# `prisma migrate deploy` runs Prisma's native schema engine, which Prisma picks (and
# downloads) for the system's libssl version. Node's slim images do not ship the system
# OpenSSL (Node bundles its own), and without it Prisma warns, falls back to openssl-1.1.x and
# fetches an engine that cannot load. The `openssl` package brings libssl3 and the `openssl`
# command that Prisma probes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# ---- deps: production node_modules and the generated Prisma client ---------------------------
FROM base AS deps
# Only what `npm ci` needs, so this layer is rebuilt only when these change: the postinstall
# (`node scripts/prisma.mjs generate`) reads prisma.config.ts and prisma/schema.prisma and
# writes core/generated/.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
# --omit=dev is enough: everything the processes and the postinstall use is in "dependencies"
# (tsx, prisma, @prisma/client, @pothos/plugin-prisma's generator); the devDependencies are
# for tests, type-checking and the offline schema-engine stand-in, none of which the image uses.
# `prisma generate` also makes sure the schema engine for this platform is in
# node_modules/@prisma/engines (downloading it from Prisma's binary host, which a normal
# networked build reaches; the build fails here if it cannot), so `db:migrate` needs no
# download at run time, when node_modules is read-only for the `node` user.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- web: the dashboard (web/ → web/dist), built with the devDependencies (Vite, React) ---------
FROM base AS web
COPY package.json package-lock.json ./
# No install scripts: the build needs no Prisma client.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY schema.graphql ./
COPY web ./web
RUN npm run build:web && mkdir -p /out && cp -R web/dist /out/dist

# ---- runtime ---------------------------------------------------------------------------------
FROM base AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
# Owned by root and only readable by the app: the processes write nothing under /app
# (tsx keeps its cache in /tmp; npm writes its logs under /home/node).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/core/generated ./core/generated
COPY package.json prisma.config.ts schema.graphql ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY core ./core
COPY server ./server
COPY worker ./worker
# The dashboard's build: the server serves web/dist.
COPY --from=web /out/ ./web/

USER node
# 4000: the server's API and dashboard; 9464: the worker's /metrics, /health and /ready.
EXPOSE 4000 9464
# Liveness only (/health is 200 whenever the process serves HTTP); /ready also checks
# PostgreSQL and Redis. This check is the server's: docker-compose.yml gives the worker its own
# (its /ready on WORKER_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm run server` runs, without npm in between: npm starts scripts through `sh -c`, and
# on SIGTERM npm passes the signal to that shell, which dies without passing it on, so the
# server's graceful shutdown (and the worker's: finishing in-flight deliveries) never runs and
# the process is killed when the container stops. Same for the worker in docker-compose.yml.
CMD ["node", "--v8-pool-size=1", "--import", "tsx", "server/main.ts"]
