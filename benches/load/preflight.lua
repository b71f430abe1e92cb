-- wrk script: the trivial route (CORS preflight of /v1/batch), the baseline for batch ingest.
wrk.method = "OPTIONS"
EXPECT = 204
dofile((os.getenv("LOAD_DIR") or ".") .. "/report.lua")
