#!/bin/sh
# Writes Synapse Admin's config.json at container start (run by the nginx image's
# /docker-entrypoint.sh, like every script in /docker-entrypoint.d/), pinning the
# UI to this deployment's homeserver so it cannot be pointed at another server.
#
#   SYNAPSE_ADMIN_HOMESERVER_URL  https://chat.example.com (required)
#   SYNAPSE_ADMIN_CONFIG_PATH     where to write (default /srv/www/chat-admin/config.json)
set -eu

url="${SYNAPSE_ADMIN_HOMESERVER_URL:-}"
target="${SYNAPSE_ADMIN_CONFIG_PATH:-/srv/www/chat-admin/config.json}"

# Only a bare https origin is accepted, so the value needs no JSON escaping.
if ! printf '%s' "$url" | grep -Eq '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$'; then
    echo "40-synapse-admin-config: SYNAPSE_ADMIN_HOMESERVER_URL must be an https origin such as https://chat.example.com, got '${url}'" >&2
    exit 1
fi

tmp="${target}.tmp.$$"
printf '{"restrictBaseUrl":"%s"}\n' "$url" > "$tmp"
mv "$tmp" "$target"
echo "40-synapse-admin-config: wrote ${target} for ${url}"
