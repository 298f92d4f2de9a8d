# shellcheck shell=bash disable=SC2034  # the variables it sets are its callers'
# What the scripts that push an image to the registry share (publish-image, publish-db-image):
# their inputs, the registry's name for an image, a login that leaves no credential behind,
# and the job's outputs. Sourced by a script that has cd'ed to the repository root.
# Environment: OWNER (github.repository_owner), REGISTRY_USER, REGISTRY_TOKEN (the job's
# GITHUB_TOKEN with packages: write); REGISTRY, another registry than ghcr.io, only for trying
# the scripts out.
#
# registry_inputs NAME   check the inputs (one line naming a missing one, then exit); set
#                        registry and repo (REGISTRY/owner/NAME, lower case)
# registry_login         log in with a client config of its own, removed when the script exits
# registry_has IMAGE     true if the registry has IMAGE, false if it has not; any other answer
#                        (no login, no network) stops the script, naming it
# registry_output K=V... append to $GITHUB_OUTPUT when set (the step's outputs)

registry_me=${0##*/}
docker=${DOCKER:-$(tools/offline/docker-client)}

registry_inputs() {
  : "${OWNER:?$registry_me: OWNER is not set}" "${REGISTRY_USER:?$registry_me: REGISTRY_USER is not set}"
  : "${REGISTRY_TOKEN:?$registry_me: REGISTRY_TOKEN is not set}"
  registry=${REGISTRY:-ghcr.io}
  # Registry paths must be lower case; GitHub owners need not be.
  repo=$registry/$(tr '[:upper:]' '[:lower:]' <<<"$OWNER")/$1
}

registry_login() {
  # The credential lives in a throwaway client config, removed on exit, never in ~/.docker.
  DOCKER_CONFIG=$(mktemp -d)
  export DOCKER_CONFIG
  trap 'rm -rf "$DOCKER_CONFIG"' EXIT
  printf '%s' "$REGISTRY_TOKEN" | "$docker" login "$registry" --username "$REGISTRY_USER" --password-stdin
}

registry_has() {
  local answer insecure=()
  # The engine pushes to a loopback registry over plain HTTP; the client's manifest command
  # must be told to, or it takes the failed HTTPS attempt for "no such manifest".
  [[ $registry =~ ^(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?$ ]] && insecure=(--insecure)
  if answer=$("$docker" manifest inspect "${insecure[@]}" "$1" 2>&1 >/dev/null); then
    return 0
  fi
  # The distribution registry says "no such manifest" or "manifest unknown" (GHCR), and
  # "name unknown" before the repository's first push.
  if grep -qiE 'no such manifest|manifest unknown|name unknown' <<<"$answer"; then
    return 1
  fi
  echo "$registry_me: cannot tell whether the registry has $1: $answer" >&2
  exit 1
}

registry_output() {
  [ -n "${GITHUB_OUTPUT:-}" ] || return 0
  printf '%s\n' "$@" >>"$GITHUB_OUTPUT"
}
