#!/bin/sh
# Writes the edge proxy's client-ip.conf at container start (run by the nginx image's
# /docker-entrypoint.sh, like every script in /docker-entrypoint.d/): the variant for the edge
# in front of the ALB, so one image serves every environment.
#
#   SYNAPSE_EDGE_PROVIDER     cloudflare | none (required)
#   SYNAPSE_EDGE_VARIANTS     where the variants are (default /etc/nginx/edge-variants)
#   SYNAPSE_EDGE_CLIENT_IP    where to write (default /etc/nginx/edge/client-ip.conf)
set -eu

provider="${SYNAPSE_EDGE_PROVIDER:-}"
variants="${SYNAPSE_EDGE_VARIANTS:-/etc/nginx/edge-variants}"
target="${SYNAPSE_EDGE_CLIENT_IP:-/etc/nginx/edge/client-ip.conf}"

case "$provider" in
    cloudflare|none) ;;
    *)
        echo "40-synapse-edge-client-ip: SYNAPSE_EDGE_PROVIDER must be cloudflare or none (config edge.provider), got '${provider}'" >&2
        exit 1
        ;;
esac

tmp="${target}.tmp.$$"
cp "${variants}/client-ip.${provider}.conf" "$tmp"
mv "$tmp" "$target"
echo "40-synapse-edge-client-ip: client IP from ${provider} rules (${target})"
