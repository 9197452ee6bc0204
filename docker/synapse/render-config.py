#!/usr/bin/env python3
"""Container entrypoint of the Phenom Synapse image.

1. Reads the homeserver config from SYNAPSE_CONFIG_YAML. The CDK app renders it
   (lib/chat-synapse/homeserver-config.ts) with ${NAME} placeholders instead of
   secrets and deploy-time values.
2. Fills every placeholder from the environment: ECS injects the secrets from
   Secrets Manager as separate variables. Substitution happens on the parsed
   YAML's strings and the result is dumped again, so no value can break the
   YAML syntax.
3. Writes the signing key and the config file (both 0600, each written to a
   temp file then renamed, so a failure never leaves a half-written file).
   The key is either imported as it is from SYNAPSE_SIGNING_KEY (an existing
   homeserver's key, so it keeps its federation identity) or derived from
   SYNAPSE_SIGNING_KEY_SEED (a new server). Exactly one of them is set.
4. Picks the role: the config's worker_app (lib/chat-synapse/workers) becomes
   SYNAPSE_WORKER, the module the stock /start.py runs; without one it is the
   main process (synapse.app.homeserver). A SYNAPSE_WORKER the task sets itself
   must agree with the config. A scalable worker kind runs N tasks of one task
   definition, so its worker_name ends in ${SYNAPSE_WORKER_INSTANCE}: when the
   environment does not set it, it is this task's host name, which is unique
   per running task (awsvpc gives each task its own address and host name).
5. Removes the config and secret variables from the environment and execs the
   command it was given (the image's stock /start.py).

Any problem exits with status 2 and a message that names the variable, never
its value.
"""
import base64
import hashlib
import os
import re
import socket
import sys
import tempfile

import yaml

PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")
CONFIG_ENV = "SYNAPSE_CONFIG_YAML"
SIGNING_KEY_SEED_ENV = "SYNAPSE_SIGNING_KEY_SEED"
SIGNING_KEY_ENV = "SYNAPSE_SIGNING_KEY"
# Variables that only this script needs; Synapse never sees them (the prefix covers the seed too).
CONSUMED_ENV_PREFIXES = ("SYNAPSE_CONFIG_YAML", "SYNAPSE_SIGNING_KEY")
WORKER_INSTANCE_ENV = "SYNAPSE_WORKER_INSTANCE"
WORKER_ENV = "SYNAPSE_WORKER"
MAIN_APP = "synapse.app.homeserver"
WORKER_APPS = ("synapse.app.generic_worker", "synapse.app.media_repository")
# Synapse puts worker names in instance_map keys, stream positions and replication commands.
WORKER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# Synapse's key file line (synapse/config/key.py, signedjson.key.read_signing_keys): the algorithm,
# the key version (Matrix key identifiers are [a-zA-Z0-9_]) and the 32-byte ed25519 seed in unpadded
# base64, which is 43 characters.
SIGNING_KEY_LINE = re.compile(r"^ed25519 ([a-zA-Z0-9_]{1,255}) ([A-Za-z0-9+/]{43})$")


class ConfigError(Exception):
    pass


def fill_placeholders(node, env, used, missing):
    if isinstance(node, dict):
        return {key: fill_placeholders(value, env, used, missing) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_placeholders(value, env, used, missing) for value in node]
    if isinstance(node, str):
        def substitute(match):
            name = match.group(1)
            value = env.get(name)
            if not value:
                missing.add(name)
                return match.group(0)
            used.add(name)
            return value

        return PLACEHOLDER.sub(substitute, node)
    return node


def worker_instance(hostname):
    """A worker_name suffix from the host name: its first label, reduced to [a-z0-9-]."""
    label = re.sub(r"[^a-z0-9-]+", "-", hostname.split(".")[0].lower()).strip("-")
    if not label:
        raise ConfigError("cannot derive %s from the host name %r; set it" % (WORKER_INSTANCE_ENV, hostname))
    return label[:63]


def role_of(config, env):
    """The module /start.py runs: the config's worker_app, or the main process without one."""
    worker_app = config.get("worker_app")
    if worker_app is None:
        role = MAIN_APP
        if "worker_name" in config or "worker_listeners" in config:
            raise ConfigError("the homeserver config has worker keys but no worker_app")
    elif worker_app in WORKER_APPS:
        role = worker_app
        name = config.get("worker_name")
        if not isinstance(name, str) or not WORKER_NAME.match(name):
            raise ConfigError("worker_name must be 1-100 letters, digits, '_', '.' or '-'")
    else:
        raise ConfigError("worker_app must be one of %s, got %r" % (", ".join(WORKER_APPS), worker_app))
    requested = env.get(WORKER_ENV)
    if requested and requested != role:
        raise ConfigError("%s is %s but the homeserver config is for %s" % (WORKER_ENV, requested, role))
    return role


def signing_key_line(seed):
    """An ed25519 signing key in Synapse's file format, derived from random text.

    Secrets Manager can only generate printable passwords, and Synapse needs a
    32-byte ed25519 seed; SHA-256 of the generated text gives exactly that, and
    the same text always gives the same key, so the server keeps its identity
    across restarts. The key id is derived too, so it is stable as well.
    """
    key_seed = hashlib.sha256(b"phenom-synapse-signing-key\x00" + seed.encode("utf-8")).digest()
    key_id = "a_" + hashlib.sha256(key_seed).hexdigest()[:4]
    encoded = base64.b64encode(key_seed).decode("ascii").rstrip("=")
    return "ed25519 %s %s\n" % (key_id, encoded)


def imported_signing_key_line(value):
    """Checks an imported key file and returns it normalised to one line.

    The error names the variable and the part that is wrong, never the value:
    the seed is the server's private key.
    """
    lines = [line.strip() for line in value.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        raise ConfigError(
            "%s must hold exactly one key, the line 'ed25519 <key_id> <unpadded base64 seed>' of the old server's "
            "signing key file; it holds %d lines" % (SIGNING_KEY_ENV, len(lines))
        )
    match = SIGNING_KEY_LINE.match(lines[0])
    if not match:
        raise ConfigError(
            "%s is not a Synapse signing key: expected 'ed25519 <key_id> <unpadded base64 seed>' with a key id of "
            "letters, digits and _ and a 43-character base64 seed (the old server's signing.key, as it is)" % SIGNING_KEY_ENV
        )
    try:
        seed = base64.b64decode(match.group(2) + "=", validate=True)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ConfigError("%s: the seed does not decode to the 32 bytes of an ed25519 key" % SIGNING_KEY_ENV)
    return lines[0] + "\n"


def signing_key_text(env):
    imported = env.get(SIGNING_KEY_ENV)
    seed = env.get(SIGNING_KEY_SEED_ENV)
    if imported and seed:
        # Two identities for one server: refuse rather than pick one silently.
        raise ConfigError("set only one of %s (an imported key) and %s (a derived key)" % (SIGNING_KEY_ENV, SIGNING_KEY_SEED_ENV))
    if imported:
        return imported_signing_key_line(imported)
    if not seed or len(seed) < 32:
        raise ConfigError(
            "%s must be set to at least 32 random characters (or %s to an imported key)" % (SIGNING_KEY_SEED_ENV, SIGNING_KEY_ENV)
        )
    return signing_key_line(seed)


def write_private(path, text):
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def render(env):
    """Returns (config_path, config_text, signing_key_path, signing_key_text, used_names, role)."""
    raw = env.get(CONFIG_ENV)
    if not raw:
        raise ConfigError("%s is not set: the task definition must pass the rendered homeserver.yaml" % CONFIG_ENV)
    try:
        config = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise ConfigError("%s is not valid YAML: %s" % (CONFIG_ENV, err))
    if not isinstance(config, dict):
        raise ConfigError("%s must be a YAML mapping (the homeserver.yaml), got %s" % (CONFIG_ENV, type(config).__name__))

    used, missing = set(), set()
    if WORKER_INSTANCE_ENV in PLACEHOLDER.findall(raw) and not env.get(WORKER_INSTANCE_ENV):
        env = dict(env, **{WORKER_INSTANCE_ENV: worker_instance(socket.gethostname())})
    filled = fill_placeholders(config, env, used, missing)
    if missing:
        raise ConfigError(
            "the homeserver config refers to unset or empty environment variables: %s" % ", ".join(sorted(missing))
        )

    signing_key_path = filled.get("signing_key_path")
    if not isinstance(signing_key_path, str) or not signing_key_path:
        raise ConfigError("the homeserver config has no signing_key_path")
    key_text = signing_key_text(env)
    role = role_of(filled, env)

    config_dir = env.get("SYNAPSE_CONFIG_DIR", "/synapse")
    config_path = env.get("SYNAPSE_CONFIG_PATH", os.path.join(config_dir, "homeserver.yaml"))
    text = yaml.safe_dump(filled, default_flow_style=False, sort_keys=False)
    return config_path, text, signing_key_path, key_text, used, role


def main(argv, env):
    try:
        config_path, text, key_path, key_text, used, role = render(env)
        write_private(key_path, key_text)
        write_private(config_path, text)
    except ConfigError as err:
        sys.stderr.write("render-config: %s\n" % err)
        return 2
    except OSError as err:
        sys.stderr.write("render-config: cannot write the config: %s\n" % err)
        return 2

    sys.stderr.write("render-config: wrote %s (%d placeholders filled) for %s\n" % (config_path, len(used), role))
    command = argv[1:] or ["/start.py"]
    child_env = {
        key: value
        for key, value in env.items()
        if key not in used and not key.startswith(CONSUMED_ENV_PREFIXES)
    }
    child_env[WORKER_ENV] = role
    sys.stderr.flush()
    os.execvpe(command[0], command, child_env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv, dict(os.environ)))
