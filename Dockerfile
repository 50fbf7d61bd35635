# One image for every Tally service; the build arg APP (or the env var APP at run time)
# chooses which app starts:
#
#   docker build --build-arg APP=gateway -t tally-gateway .
#   docker run --rm -e APP=query -e QUERY_HOST=0.0.0.0 -p 3001:3001 tally-gateway   # same image, other app
#
# APP is one of: gateway, query, writer, billing-worker (see apps/).
# Used by docker-compose.yml; local development and the tests use tools/infra/infra.sh instead.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    npm_config_update_notifier=false

# Dependencies first, so the layer is reused while only sources change.
# devDependencies stay: the billing worker bundles its workflows from TypeScript at start-up.
COPY package.json package-lock.json .npmrc ./
RUN npm install --no-audit --no-fund && npm cache clean --force

# The repository (see .dockerignore: no node_modules, .data, .git, build output), compiled to dist/.
COPY . .
RUN node tools/build/compile.js

ARG APP=gateway
ENV APP=${APP} \
    NODE_ENV=production

# Public API: gateway 3000, query 3001, writer 3002. Internal listener (/metrics, detailed /health;
# docs/operations.md#internal-port): gateway 9400, query 9401, writer 9402, billing-worker 9403 (the
# worker has no public API). Publish only the public ports; Prometheus reaches the internal ones on
# the container network (TALLY_INTERNAL_HOST=0.0.0.0 in the container, as docker-compose.yml sets).
EXPOSE 3000 3001 3002 9400 9401 9402 9403

# GET /health on the internal port: <APP>_INTERNAL_PORT (e.g. BILLING_WORKER_INTERNAL_PORT), else the app's default
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD node -e "const a=process.env.APP,d={gateway:9400,query:9401,writer:9402,'billing-worker':9403}[a],p=process.env[a.toUpperCase().replace(/-/g,'_')+'_INTERNAL_PORT']||d,h=process.env.TALLY_INTERNAL_HOST,host=!h||h==='0.0.0.0'||h==='::'?'127.0.0.1':h;fetch('http://'+host+':'+p+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

USER node
CMD ["sh", "-c", "exec node \"dist/apps/${APP}/src/main.js\""]
