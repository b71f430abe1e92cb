# Affinity: two commands.
#   make demo   install what is missing, build, serve shop + plugin + edge + dashboard on 127.0.0.1:8787
#   make test   install what is missing, build, run every test, print the size report
# Everything else here is a step of those two.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source .ci/env.sh &&
PORT ?= 8787
STATE ?= target/demo-state

.PHONY: demo test setup site worker-vars migrate shop lint unit eval browser-test e2e sizes size-floor bench bench-browser bench-page load clean

demo: setup site worker-vars migrate
	@$(ENV) echo "Affinity demo: shop http://127.0.0.1:$(PORT)/  dashboard http://127.0.0.1:$(PORT)/dashboard (secret: ADMIN_SECRET in worker/.dev.vars)"
	@# In the background once the edge answers: the demo shop (operator API), then demo history
	@# for a shop without events. Log: target/seed.log.
	@$(ENV) ((bash .ci/demo-shop.sh http://127.0.0.1:$(PORT) && node demo-site/seed.mjs http://127.0.0.1:$(PORT) --wait --if-empty) >target/seed.log 2>&1 &)
	@$(ENV) cd worker && CI=true setsid wrangler dev --ip 127.0.0.1 --port $(PORT) --persist-to ../$(STATE) \
	  --show-interactive-dev-session=false </dev/null

test: setup lint unit eval browser-test site e2e sizes
	@echo "make test: all passed"

setup:
	@bash .ci/setup.sh

site:
	@bash .ci/build-site.sh

# Local secrets for wrangler dev; a real deployment uses `wrangler secret put OPERATOR_SECRET`.
worker-vars:
	@[ -f worker/.dev.vars ] || cp worker/.dev.vars.example worker/.dev.vars
	@grep -q '^OPERATOR_SECRET' worker/.dev.vars || grep '^OPERATOR_SECRET' worker/.dev.vars.example >>worker/.dev.vars

# D1 migrations, before the Worker serves.
migrate: worker-vars
	@bash .ci/migrate.sh $(STATE)

# The operator's command against a running edge: make shop ARGS="create --name 'My Shop'"
# (also list, show, rename, settings, rotate, export, delete; EDGE=… for a deployed Worker).
EDGE ?= http://127.0.0.1:$(PORT)
shop: worker-vars
	@$(ENV) node worker/shop.mjs --edge $(EDGE) $(ARGS)

lint:
	@$(ENV) cargo fmt --all -- --check
	@$(ENV) cargo clippy --all-targets -p affinity -- -D warnings
	@$(ENV) cargo clippy --target wasm32-unknown-unknown -p affinity --lib -- -D warnings
	@$(ENV) cargo clippy --target wasm32-unknown-unknown -p affinity-worker -- -D warnings
	@$(ENV) cargo clippy -p affinity-worker --all-targets -- -D warnings

# Native unit, integration and doc tests (the data-set evaluation runs in `eval`, optimised).
unit:
	@$(ENV) cargo test -p affinity --lib --test integration
	@$(ENV) cargo test -p affinity --doc
	@$(ENV) cargo test -p affinity-worker

eval:
	@$(ENV) cargo test --profile eval -p affinity --test eval_recommend
	@$(ENV) timeout 900 cargo test --profile eval -p affinity --test eval_forecast

# Forecasting on CDNOW: holdout MAE/AUC/totals beside BG/NBD, Pareto/NBD and a recency rule, fit
# cost, customer groups (docs/forecast.md). Bounded; FULL=1 adds the 23,570-customer file.
.PHONY: eval-forecast
eval-forecast:
	@$(ENV) timeout 900 cargo test --profile eval -p affinity --test eval_forecast $(if $(FULL),-- --full,)

browser-test:
	@$(ENV) cargo test --target wasm32-unknown-unknown -p affinity --test browser

e2e: worker-vars
	@$(ENV) node tests/e2e/run.mjs

sizes:
	@bash .ci/size-report.sh

# The page module with the engine alone (no browser seam), beside the shipped one: how small the
# page could get by making the seam cheaper (benches/page-floor/floor.rs; BENCHMARKS.md "Size").
size-floor: setup
	@bash .ci/page-floor.sh

bench:
	@$(ENV) cargo bench -p affinity

# Medians in Chromium for the Wasm page module (rules, ranking), with in-page baselines.
bench-browser:
	@$(ENV) node benches/browser/run.mjs

# Ingest under load (wrk, 127.0.0.1 only, bounded): /v1/batch beside the trivial preflight route
# (LOAD_PROFILE=1 adds a CPU profile of the Worker during the batch run).
load: setup site worker-vars
	@bash benches/load/run.sh

# The demo shop's pages in headless Chromium with and without Affinity (alternating runs):
# load timings, long tasks, blocking time, time to slots and segments, bytes, heap, capture cost.
# Runs through the e2e harness (its edge and seeded shop) on ports 8798/8799 unless E2E_EDGE_PORT /
# E2E_SHOP_PORT say otherwise.
bench-page: site worker-vars
	@$(ENV) E2E_EDGE_PORT=$${E2E_EDGE_PORT:-8798} E2E_SHOP_PORT=$${E2E_SHOP_PORT:-8799} \
	  node tests/e2e/run.mjs $(CURDIR)/benches/page/bench.mjs

# Dashboard and explore pages timed through the Worker on 100k / 1M / 3M events plus the CDNOW
# orders, bulk-loaded into local D1 by the Worker's fold (benches/dashboard/; SIZES=, RUNS=,
# BENCH_PORT= default 8830). A benchmark: it asserts nothing about speed.
.PHONY: bench-dashboard
bench-dashboard: site worker-vars
	@$(ENV) node benches/dashboard/run.mjs

clean:
	rm -rf target
