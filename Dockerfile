# Petrel server image: the compiled server (dist/), run by node as the unprivileged user `petrel`. Without DATABASE_URL
# it runs its embedded Postgres with data under /var/lib/petrel.
#
# BASE_IMAGE (both stages) is any Debian-based image with node >= 20 and npm: the official one by default. Without a
# registry, scripts/docker-server-image.sh builds one offline and passes --build-arg BASE_IMAGE=petrel-ci-node:bookworm.
ARG BASE_IMAGE=node:20-bookworm-slim

# Build: every dependency (TypeScript and Vite among them), then `npm run build` into dist/ (the console: dist/console).
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY common ./common
COPY server ./server
COPY client ./client
COPY console ./console
RUN npm run build
# The server's optional peer dependencies become dependencies of the image, at the versions the lockfile holds.
COPY scripts/server-manifest.mjs ./scripts/
RUN node scripts/server-manifest.mjs

# Runtime: production dependencies and the compiled JavaScript only (no TypeScript, no tsx, no sources).
FROM ${BASE_IMAGE}
WORKDIR /app
# The container's own address must be non-loopback for published ports to work. Without authentication that is
# only allowed with PETREL_INSECURE_LISTEN_ANY=true (local use: the image's default, with a warning at start);
# anything reachable from a network should set PETREL_API_KEYS or PETREL_OIDC_ISSUER (and TLS) instead.
ENV NODE_ENV=production \
    PETREL_HOME=/var/lib/petrel \
    PETREL_HOST=0.0.0.0 \
    PETREL_INSECURE_LISTEN_ANY=true
COPY --from=build /src/package.json /src/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin/petrel.js ./bin/
COPY --from=build /src/dist ./dist
RUN useradd --system --create-home petrel && mkdir -p /var/lib/petrel && chown petrel:petrel /var/lib/petrel
USER petrel
VOLUME ["/var/lib/petrel"]
EXPOSE 8088 8089
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PETREL_HTTP_PORT||8088)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/petrel.js"]
CMD ["serve"]
