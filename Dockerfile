# Petrel server image. Without DATABASE_URL it runs its embedded Postgres with data under /var/lib/petrel.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    PETREL_HOME=/var/lib/petrel \
    PETREL_HOST=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY gen ./gen
COPY server ./server
COPY client ./client
COPY common ./common
RUN useradd --system --create-home petrel && mkdir -p /var/lib/petrel && chown petrel:petrel /var/lib/petrel
USER petrel
VOLUME ["/var/lib/petrel"]
EXPOSE 8088 8089
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PETREL_HTTP_PORT||8088)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/petrel.js"]
CMD ["serve"]
