# syntax=docker/dockerfile:1
# vmbot in a container: build with the full Debian image (sqlite3 may compile its native
# binding: python3, make, g++), run on the slim one as a non-root user.
#   docker build -t vmbot .
#   docker run -v vmbot-data:/app/data -v ./vmbot.config.yaml:/app/vmbot.config.yaml:ro \
#     -e SLACK_BOT_TOKEN_FILE=/run/secrets/slack_bot_token ... vmbot
# See docs/deploy.md.

FROM node:20-bookworm AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the native modules
# are rebuilt explicitly instead.
RUN npm ci --ignore-scripts && npm rebuild sqlite3 ssh2
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 vmbot \
 && useradd --system --uid 10001 --gid vmbot --home-dir /app --shell /usr/sbin/nologin vmbot \
 && mkdir -p /app/data \
 && chown vmbot:vmbot /app/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
# The web console's page (the compiled code reads it from src/chat/web/public).
COPY src/chat/web/public ./src/chat/web/public
COPY vmbot.config.schema.json ./
# The SQLite database, the built-in NoCloud files and other state: keep it on a volume and
# back it up before upgrades (migrations run at start).
VOLUME ["/app/data"]
USER vmbot
# 8000: built-in NoCloud server (cloudInit.builtin.listen); 8080: web console (web.listen);
# 3000: Slack HTTP mode (slack.port). Publish only what the config uses.
EXPOSE 8000 8080 3000
CMD ["node", "bin/vmbot.js", "serve"]
