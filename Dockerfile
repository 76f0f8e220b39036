# Image for the api and worker services of docker-compose.yml (and any container platform).
FROM node:22-slim

ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app

# Dependencies first so code edits reuse the cached layer. tsx runs the TypeScript sources
# directly (it is a runtime dependency), so there is no build step and no dev dependencies.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --chown=node:node . .
RUN mkdir -p /app/data && chown node:node /app/data

# The official image's unprivileged user.
USER node
EXPOSE 3000

# node directly (not npm) so SIGTERM reaches the app and it drains its jobs before exiting.
CMD ["node", "--import", "tsx", "src/main.ts"]
