#!/usr/bin/env bash
# The one benchmark command (see README, Benchmarks). Starts the same throwaway PostgreSQL as tests/run.sh,
# builds in Release, runs every test in the Benchmark category, and writes a markdown results table with
# the machine's description to tests/DeployPortal.Web.Tests.Benchmarks/bin/Release/bench-results/results.md (and to
# standard output). All load stays on loopback; the run is bounded (about 10 minutes on 2 cores).
#
#   DEPLOYPORTAL_BENCH_CIRCUITS=5000   board circuits to open (the goal is 5,000; use 100-200 to try it out)
#   DEPLOYPORTAL_BENCH_FILTER=...      narrow to some benchmarks, e.g. FullyQualifiedName~ApiContention
#   DEPLOYPORTAL_BENCH_HEAPDUMP=/tmp/x.dump   with every circuit open, dump the portal's heap for profiling (dotnet-dump on PATH)
#   DEPLOYPORTAL_BENCH_PERF=/tmp/x.data       perf-sample the portal while slot changes go out (with DOTNET_PerfMapEnabled=1)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*" >&2; }

# shellcheck source=tests/lib/test-env.sh
source "$root/tests/lib/test-env.sh"

project=tests/DeployPortal.Web.Tests.Benchmarks
out="$root/$project/bin/Release/bench-results"
rm -rf "$out"
mkdir -p "$out"
export DEPLOYPORTAL_BENCH_RESULTS="$out"

filter="Category=Benchmark"
if [ -n "${DEPLOYPORTAL_BENCH_FILTER:-}" ]; then filter="$filter&${DEPLOYPORTAL_BENCH_FILTER}"; fi

log "restoring and building"
dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
log "running benchmarks ($filter); output in $out/output.log"
set +e
# The portal runs inside the test host, so the test host gets the GC settings the portal ships: every System.GC.*
# property of the built DeployPortal.Web.runtimeconfig.json (from the web project file) becomes the DOTNET_ variable
# the runtime reads (numbers in hex, as the runtime parses them); a setting this list does not know stops the run
# rather than being measured without. Without this the test host would run workstation GC.
shipped="$root/src/DeployPortal.Web/bin/Release/net10.0/DeployPortal.Web.runtimeconfig.json"
gc_env=()
while IFS='=' read -r key value; do
  [ -n "$key" ] || continue
  case "$value" in true) value=1 ;; false) value=0 ;; *) value=$(printf '%x' "$value") ;; esac
  case "$key" in
    System.GC.Server) gc_env+=("DOTNET_gcServer=$value") ;;
    System.GC.Concurrent) gc_env+=("DOTNET_gcConcurrent=$value") ;;
    System.GC.DynamicAdaptationMode) gc_env+=("DOTNET_GCDynamicAdaptationMode=$value") ;;
    System.GC.ConserveMemory) gc_env+=("DOTNET_GCConserveMemory=$value") ;;
    System.GC.HeapCount) gc_env+=("DOTNET_GCHeapCount=$value") ;;
    System.GC.HeapAffinitizeMask) gc_env+=("DOTNET_GCHeapAffinitizeMask=$value") ;;
    System.GC.NoAffinitize) gc_env+=("DOTNET_GCNoAffinitize=$value") ;;
    System.GC.RetainVM) gc_env+=("DOTNET_GCRetainVM=$value") ;;
    System.GC.Gen0MaxBudget) gc_env+=("DOTNET_GCGen0MaxBudget=$value") ;;
    *) echo "bench.sh: $shipped sets $key, which bench.sh does not pass on to the test host" >&2; exit 2 ;;
  esac
done < <(jq -r '.runtimeOptions.configProperties | to_entries[] | select(.key | startswith("System.GC.")) | "\(.key)=\(.value)"' "$shipped")
log "the portal's shipped GC settings: ${gc_env[*]}"

# One benchmark at a time: the normal run's parallel test collections would measure each other.
# The shared ArrayPool's larger per-core cap is the container image's (src/DeployPortal.Web/Dockerfile says why).
env "${gc_env[@]}" DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION=4096 timeout 30m dotnet test "$project" -c Release --no-build --nologo --filter "$filter" \
  --logger "console;verbosity=detailed" -- xUnit.ParallelizeTestCollections=false 2>&1 | tee "$out/output.log"
status=${PIPESTATUS[0]}
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- The results table ---------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
kernel=$(uname -r)
runtime=$(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ { v = $2 } END { print v }')
sdk=$(dotnet --version)
pg=$("$pgbin/postgres" --version | awk '{ print $3 }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "# DeployPortal benchmark results"
  echo
  echo "$started, commit $commit, \`tests/bench.sh\`${DEPLOYPORTAL_BENCH_CIRCUITS:+ with DEPLOYPORTAL_BENCH_CIRCUITS=$DEPLOYPORTAL_BENCH_CIRCUITS}."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPU | $(nproc) cores ($cpu) |"
  echo "| RAM | $ram |"
  echo "| OS | $os, Linux $kernel |"
  echo "| .NET | ASP.NET Core $runtime, SDK $sdk, Release build |"
  echo "| PostgreSQL | $pg (throwaway, loopback, fsync off) |"
  echo "| load average (1/5/15 min) | $load_before before, $load_after after |"
  echo
  echo "| benchmark | result | goal | |"
  echo "|---|---|---|---|"
  if compgen -G "$out/rows/*.md" >/dev/null; then cat "$out"/rows/*.md; else echo "| (no benchmark reported) | | | |"; fi
  echo
  echo "## Method"
  echo
  if compgen -G "$out/methods/*.md" >/dev/null; then cat "$out"/methods/*.md; fi
  echo
  echo "The portal and the load generators share the machine; the CPU figures say how much each used."
  if [ "$status" -ne 0 ]; then
    echo
    echo "**The run failed (exit $status)**: see $out/output.log."
  fi
} >"$out/results.md"

echo
cat "$out/results.md"
log "results: $out/results.md"
exit "$status"
