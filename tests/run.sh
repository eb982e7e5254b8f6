#!/usr/bin/env bash
# The one test command. On a fresh Debian machine it installs what the suite needs (Debian's chromium, helm),
# starts a throwaway PostgreSQL on a free loopback port as an unprivileged user, restores and builds,
# runs every test project, stops what it started, and ends with "tests: N passed, N failed, N skipped".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*" >&2; }

# Chromium, helm and a throwaway PostgreSQL (stopped on exit); shared with tests/bench.sh.
# shellcheck source=tests/lib/test-env.sh
source "$root/tests/lib/test-env.sh"

# --- Build and test -----------------------------------------------------------------------------
# The test projects by kind, fastest first, one after another (each runs two test classes at a time; two projects at
# once would overload a 2-core machine). DEPLOYPORTAL_TEST_TARGET narrows the run to one project (or the solution)
# while working on it; the benchmark project runs through tests/bench.sh.
if [ -n "${DEPLOYPORTAL_TEST_TARGET:-}" ]; then
  projects=("$DEPLOYPORTAL_TEST_TARGET")
else
  projects=(tests/DeployPortal.Web.Tests.Unit tests/DeployPortal.KubeEmulator.Tests
            tests/DeployPortal.Web.Tests.Integration tests/DeployPortal.Web.Tests.Browser)
fi
target=${DEPLOYPORTAL_TEST_TARGET:-DeployPortal.sln}
# Benchmarks are excluded by default; DEPLOYPORTAL_TEST_FILTER=Category=Benchmark runs only them (see README).
filter=${DEPLOYPORTAL_TEST_FILTER:-Category!=Benchmark}
verbosity=${DEPLOYPORTAL_TEST_VERBOSITY:-normal}
log "restoring and building"
dotnet build "$target" -c Release --nologo -v quiet -clp:ErrorsOnly

# One dialect: the whole solution must be as `dotnet format` leaves it (.editorconfig). Checked on full runs only,
# so a narrowed run (a target or a filter) while working stays quick; a difference counts as one failure after the tests.
format_failed=0
if [ -z "${DEPLOYPORTAL_TEST_TARGET:-}" ] && [ -z "${DEPLOYPORTAL_TEST_FILTER:-}" ]; then
  log "checking the code format (dotnet format --verify-no-changes)"
  if ! dotnet format "$target" --verify-no-changes --no-restore -v quiet; then
    format_failed=1
  fi
fi

results=$(mktemp /tmp/deployportal-test-output.XXXXXX)
log "running tests"
set +e
status=0
for project in "${projects[@]}"; do
  log "running $project"
  dotnet test "$project" -c Release --no-build --nologo --filter "$filter" \
    --logger "console;verbosity=$verbosity" 2>&1 | tee -a "$results"
  project_status=${PIPESTATUS[0]}
  if [ "$project_status" -ne 0 ]; then status=$project_status; fi
done
set -e

# Each test assembly ends with a block like "Total tests: 84 / Passed: 84 / Failed: 1 / Skipped: 2".
read -r passed failed skipped < <(awk '
  /^ +Passed: [0-9]+$/  { passed  += $2 }
  /^ +Failed: [0-9]+$/  { failed  += $2 }
  /^ +Skipped: [0-9]+$/ { skipped += $2 }
  END { printf "%d %d %d\n", passed, failed, skipped }' "$results")
# CI keeps only the tail of the output, so name the failed tests again just above the summary.
# The logger prints each as "  Failed Namespace.Class.Method(...) [time]"; log lines it passes on are indented more.
# Each is followed by the first lines of its error message and stack, so a failure in CI can be read from the tail alone.
failed_tests='^  Failed [A-Za-z_][A-Za-z0-9_]*\.[^ ]'
if grep -qE "$failed_tests" "$results"; then
  echo "failed tests:"
  awk -v pattern="$failed_tests" '
    $0 ~ pattern { sub(/^  Failed /, "  "); print; shown = 0; showing = 1; next }
    showing && /^  (Passed|Failed|Skipped) |^Test Run |^Total tests:/ { showing = 0 }
    showing && shown < 14 && !/^ *$/ { print "    " $0; shown++ }' "$results"
fi
rm -f "$results"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crashed test host counts as a failure
if [ "$format_failed" -ne 0 ]; then
  echo "  the code format: run 'dotnet format DeployPortal.sln' and commit the result (files listed above)"
  failed=$((failed + 1))
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
