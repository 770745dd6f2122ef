#!/usr/bin/env bash
# Prepare an external Temporal cluster for InertialEvent: namespace + search attributes.
# Usage: TEMPORAL_ADDRESS=host:7233 NAMESPACE=inertial temporal/setup-cluster.sh
# (`inertial up` also registers missing search attributes itself; this is for operators.)
set -euo pipefail
ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
NAMESPACE="${NAMESPACE:-default}"
RETENTION="${RETENTION:-30d}"
temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
for attr in ArbPair=Keyword ArbVenues=KeywordList ArbState=Keyword OpportunityId=Keyword TenantId=Keyword; do
  temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" \
    --name "${attr%%=*}" --type "${attr##*=}" 2>/dev/null || true
done
temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE"
