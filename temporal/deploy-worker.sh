#!/usr/bin/env bash
# Run a standalone worker process (takes over sagas, hedges and compensations if the hot process dies).
# Usage: INERTIAL_TEMPORAL__ADDRESS=host:7233 temporal/deploy-worker.sh
set -euo pipefail
: "${INERTIAL_TEMPORAL__ADDRESS:?set INERTIAL_TEMPORAL__ADDRESS to the cluster frontend (host:port)}"
exec inertial worker
