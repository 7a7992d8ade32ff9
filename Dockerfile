# Hookyard: API, ingest and workers in one image (HOOKYARD_ROLE picks the role).
# Node 24.21, the version package.json pins for the tests: the start command's V8 flags
# (--heap-growing-percent is not a documented flag) are checked on that version only.
FROM node:24.21-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json mikro-orm.config.ts codegen.ts schema.graphql ./
COPY src ./src
# The browser console, built into dist/console by npm run build.
COPY console ./console
RUN npm run build && npm prune --omit=dev

FROM node:24.21-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The V8 flags of `npm start` (package.json; why: README "Running").
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "dist/src/main.js"]
