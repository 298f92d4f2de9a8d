# shellcheck shell=bash disable=SC2034  # the variables it sets are its callers'
# The environment an operator command works on, shared by tools/deploy, status, prune, logs and
# manage: which folder of deploy/ ENV names, the arguments that point ansible at it, and the
# secrets CI passes in the environment. Sourced by a script that has cd'ed to the repository root.
#
# environment_select TOOL ENV
#   ENV must name a folder with an inventory.yml under deploy/ (DEPLOY_ENVIRONMENTS names another
#   folder of environments, e.g. inventories kept in a private checkout); else one line naming
#   it and the environments there, and exit 2. Sets env_name, environments, inventory (as
#   given), inventory_path (absolute: ansible runs from ansible/) and environment_vars: the
#   extra-vars arguments of an environment folder with a .state/secrets.yml (the lab keeps its
#   generated secrets beside its inventory).
# environment_secrets
#   Secrets come from the environment when set (CI), else from the operator's own setup
#   (ssh-agent, ~/.ssh/known_hosts, ANSIBLE_VAULT_PASSWORD_FILE):
#     DEPLOY_SSH_KEY          private key of the deploy user on the hosts
#     DEPLOY_KNOWN_HOSTS      known_hosts lines of the hosts (host keys are then checked strictly)
#     ANSIBLE_VAULT_PASSWORD  the vault password of deploy/ENV
#   They are written only to 0600 files in a private temporary folder, $secrets, and never
#   printed; the caller removes it on exit (environment_cleanup in its EXIT trap). Sets
#   environment_key_args (ansible-playbook's --private-key) and ssh_options (the same key and
#   known hosts for a plain ssh), and exports what ansible reads itself.
# environment_playbook NAME ARGS...
#   ansible/NAME with the environment's inventory and extra vars, then ARGS.

environment_select() {
  local tool=$1 known
  env_name=$2
  environments=${DEPLOY_ENVIRONMENTS:-deploy}
  inventory=$environments/$env_name/inventory.yml
  if ! [[ $env_name =~ ^[a-z][a-z0-9_-]*$ ]] || [ ! -f "$inventory" ]; then
    known=$(find "$environments" -mindepth 2 -maxdepth 2 -name inventory.yml -printf '%h ' 2>/dev/null \
      | sed "s|$environments/||g" || true)
    echo "$tool: ENV '$env_name' has no $inventory (environments: ${known% })" >&2
    exit 2
  fi
  inventory_path=$(realpath "$inventory")
  environment_vars=()
  [ ! -f "$environments/$env_name/.state/secrets.yml" ] \
    || environment_vars=(-e "@$(realpath "$environments/$env_name/.state/secrets.yml")")
}

# environment_write_secret FILE VALUE: the value into a file only its owner can read (mktemp -d
# made the folder 0700); printf is a builtin, so the value never shows in a process list.
environment_write_secret() { (umask 077 && printf '%s\n' "$2" >"$secrets/$1"); }

environment_secrets() {
  secrets=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/deploy.XXXXXX")
  environment_key_args=()
  ssh_options=()
  if [ -n "${DEPLOY_SSH_KEY:-}" ]; then
    environment_write_secret ssh_key "$DEPLOY_SSH_KEY"
    environment_key_args=(--private-key "$secrets/ssh_key")
    ssh_options+=(-o "IdentityFile=$secrets/ssh_key")
  fi
  if [ -n "${DEPLOY_KNOWN_HOSTS:-}" ]; then
    environment_write_secret known_hosts "$DEPLOY_KNOWN_HOSTS"
    # Strict: a host whose key is not listed is refused, whatever ansible.cfg says for the lab.
    export ANSIBLE_HOST_KEY_CHECKING=True
    export ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$secrets/known_hosts"
    ssh_options+=(-o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$secrets/known_hosts")
  fi
  if [ -n "${ANSIBLE_VAULT_PASSWORD:-}" ]; then
    environment_write_secret vault_password "$ANSIBLE_VAULT_PASSWORD"
    # Read by ansible-playbook itself.
    export ANSIBLE_VAULT_PASSWORD_FILE=$secrets/vault_password
  fi
  unset DEPLOY_SSH_KEY DEPLOY_KNOWN_HOSTS ANSIBLE_VAULT_PASSWORD
}

environment_cleanup() { [ -z "${secrets:-}" ] || rm -rf "$secrets"; }

environment_playbook() {
  local name=$1
  shift
  (cd ansible && ../.venv/bin/ansible-playbook "$name" -i "$inventory_path" "${environment_vars[@]}" "$@")
}

# environment_connections TOOL
#   How to reach every host (ansible/connections.yml, which contacts none) into $connections,
#   the report tools/lib/remote.py reads; sets hosts (the inventory's host names). After
#   environment_secrets (the vault password may be needed to read the inventory).
environment_connections() {
  connections=$secrets/connections.json
  if ! ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json environment_playbook connections.yml \
    >"$connections" 2>"$secrets/connections.err"; then
    echo "$1: cannot read the hosts of $inventory:" >&2
    cat "$secrets/connections.err" >&2
    exit 1
  fi
  mapfile -t hosts < <(tools/lib/remote.py hosts "$connections")
  if [ "${#hosts[@]}" -eq 0 ]; then
    echo "$1: $inventory has no host in group library" >&2
    exit 1
  fi
}

# environment_ssh HOST: ssh_command, the argv of ssh to HOST as ansible reaches it (after
# environment_connections).
environment_ssh() {
  mapfile -d '' -t ssh_command < <(tools/lib/remote.py ssh "$connections" "$1" "${ssh_options[@]}")
}
