#!/usr/bin/env bash
# The API contract, checked by property-based testing: schemathesis generates requests
# for every operation of /api/openapi.json (valid and invalid ones), sends them to a real
# `kiln serve` as a logged-in user, and checks every answer against the document — no
# 5xx, only documented status codes, bodies matching their schemas, invalid input
# refused. Operations that end the caller's session (logout, password change) are left
# out: after them, every later request would only test the 401.
# Usage: end2end/api/schemathesis.sh <kiln binary> <schemathesis binary> [examples per operation]
set -euo pipefail
kiln=$1 st=$2 examples=${3:-25}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
# Generous limits: the run sends thousands of requests from one address in minutes.
cat >"$data/kiln.toml" <<TOML
[rate_limit]
ip_per_minute = 1000000
user_per_minute = 1000000
auth_per_minute = 1000000
TOML
DATABASE_URL="rocksdb://$data/db" KILN_CONFIG="$data/kiln.toml" LEPTOS_SITE_ADDR=$addr \
    KILN_PLUGIN_DIR="$root/plugins/dist" KILN_PLUGIN_CACHE_DIR="$data/cache" \
    KILN_JWT_KEYS="k1:$(head -c 32 /dev/urandom | base64)" RUST_LOG=warn \
    "$kiln" serve 2>"$data/kiln.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
    curl -fsS "http://$addr/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
done
register=$(curl -fsS -X POST "http://$addr/api/auth/register" -H 'Content-Type: application/json' \
    -d '{"email": "contract@example.org", "password": "a long contract passphrase"}')
token=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' <<<"$register")
# Something to find: a project with a file, so that operations on them reach their logic.
project=$(curl -fsS -X POST "http://$addr/api/projects" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name": "contract"}')
project_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$project")
uploaded=$(curl -fsS -X POST "http://$addr/api/projects/$project_id/files" \
    -H "Authorization: Bearer $token" -F 'files=@-;filename=src/lib.rs' <<<'pub fn contract() {}')
file_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["files"][0]["file_id"])' <<<"$uploaded")
export KILN_PROJECT_ID=$project_id KILN_FILE_ID=$file_id

status=0
# Its caches and reports go to the temporary directory, not the checkout.
cd "$data"
"$st" --config-file "$root/end2end/api/schemathesis.toml" run "http://$addr/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all --exclude-checks ignored_auth,positive_data_acceptance \
    --exclude-path /api/auth/logout --exclude-path /api/auth/password \
    --max-examples "$examples" --seed 20261130 --workers 1 \
    --request-timeout 30 --no-color || status=$?
if [ $status -ne 0 ]; then
    echo "--- kiln log (warnings and errors)"
    tail -n 50 "$data/kiln.log"
fi
exit $status
