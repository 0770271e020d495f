#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine's parsers (see fuzz/README.md).
#   fuzz/run.sh list                      the targets
#   fuzz/run.sh TARGET SECONDS            fuzz one target; exit 1 and fuzz/findings/TARGET/crash-* on a crash
#   fuzz/run.sh all SECONDS               every target in turn (self-tests excluded); exit 1 if any crashed
#   fuzz/run.sh selftest [SECONDS]        the planted bugs must be found within SECONDS (default 120) each
#   fuzz/run.sh repro TARGET FILE...      run saved inputs (crash reproducers) once
#   fuzz/run.sh regress                   replay fuzz/regressions/<target>/*: exit 1 while any still crashes
#   fuzz/run.sh check                     instrumented vs plain build: same outcomes on seeds + fixed mutations
#   fuzz/run.sh testcheck                 the engine's unit tests (already built) against instrumented assemblies
#   fuzz/run.sh seeds                     re-extract fuzz/corpus/* from tests/fixtures
# Extra options after SECONDS go to the driver: --no-coverage, --no-auto-dict, --no-cmp-table, --seed N, --timeout-ms N.
# Set FUZZ_NO_BUILD=1 to reuse the last build in fuzz/work/.
set -uo pipefail
FUZZ="$(cd "$(dirname "$0")" && pwd)"
WORK="$FUZZ/work"
INST="$WORK/inst"      # the driver with instrumented engine assemblies
PLAIN="$WORK/plain"    # the same, not instrumented (for `check`)

build() {
  [ "${FUZZ_NO_BUILD:-0}" = 1 ] && [ -x "$INST/Engine.Fuzz" ] && return 0
  echo "fuzz: building (Release)..." >&2
  dotnet build "$FUZZ/Engine.Fuzz.Instrument/Engine.Fuzz.Instrument.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2 || return 1
  dotnet build "$FUZZ/Engine.Fuzz/Engine.Fuzz.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2 || return 1
  local out="$WORK/build/bin/Engine.Fuzz/Release/net9.0"
  rm -rf "$INST" "$PLAIN"
  mkdir -p "$INST" "$PLAIN"
  cp -a "$out/." "$INST/"
  cp -a "$out/." "$PLAIN/"
  # Instrument the engine (Engine.*.dll and the host's engine.dll) and the self-test sample;
  # never the driver, the coverage runtime, or anything of the BCL.
  local targets=()
  for f in "$INST"/engine.dll "$INST"/Engine.*.dll; do
    case "$(basename "$f")" in
      Engine.Fuzz.dll|Engine.Fuzz.Runtime.dll) ;;
      *) [ -f "$f" ] && targets+=("$f") ;;
    esac
  done
  dotnet "$WORK/build/bin/Engine.Fuzz.Instrument/Release/net9.0/Engine.Fuzz.Instrument.dll" \
    "$INST/Engine.Fuzz.Runtime.dll" "${targets[@]}" >&2 || return 1
}

driver() { "$INST/Engine.Fuzz" "$@" --fuzz-dir "$FUZZ"; }

cmd="${1:-}"
case "$cmd" in
  ""|-h|--help)
    sed -n '2,13p' "$0"; exit 2 ;;
  list)
    build || exit 1
    driver list ;;
  repro)
    shift; build || exit 1
    driver repro "$@" ;;
  regress)
    # Every saved crash reproducer (fuzz/regressions/<target>/*) once: exit 1 while any still crashes.
    build || exit 1
    status=0
    for dir in "$FUZZ"/regressions/*/; do
      [ -d "$dir" ] || continue
      t=$(basename "$dir")
      files=("$dir"*)
      [ -e "${files[0]}" ] || continue
      driver repro "$t" "${files[@]}" | sed "s|$FUZZ/||" || status=1
    done
    exit $status ;;
  seeds)
    build || exit 1
    driver seeds ;;
  check)
    build || exit 1
    status=0
    # (selftest-hang and selftest-oob are left out: a mutation that hits them ends the process by design)
    for t in $(driver list | awk '{print $1}' | grep -Ev '^selftest-(hang|oob)$'); do
      a=$("$PLAIN/Engine.Fuzz" outcomes "$t" --fuzz-dir "$FUZZ" | grep '^OUTCOMES')
      b=$("$INST/Engine.Fuzz" outcomes "$t" --fuzz-dir "$FUZZ" | grep '^OUTCOMES')
      if [ -n "$a" ] && [ "$a" = "$b" ]; then echo "same: $b"; else echo "DIFFERENT: plain: $a / instrumented: $b"; status=1; fi
    done
    exit $status ;;
  testcheck)
    # The engine's own unit tests against instrumented copies of its assemblies: the rewrite must not
    # change behaviour. Uses the tests' existing build output (Release, else Debug); builds nothing in tests/.
    build || exit 1
    status=0
    for dir in "$FUZZ"/../tests/Engine.*.Tests; do
      name=$(basename "$dir")
      out="$dir/bin/Release/net9.0"; [ -f "$out/$name.dll" ] || out="$dir/bin/Debug/net9.0"
      [ -f "$out/$name.dll" ] || { echo "testcheck $name: not built, skipped"; continue; }
      copy="$WORK/testcheck/$name"
      rm -rf "$copy"; mkdir -p "$copy"; cp -a "$out/." "$copy/"
      cp "$INST/Engine.Fuzz.Runtime.dll" "$copy/"
      libs=()
      for f in "$copy"/engine.dll "$copy"/Engine.*.dll; do
        case "$(basename "$f")" in Engine.*.Tests.dll|Engine.Fuzz.Runtime.dll) ;; *) [ -f "$f" ] && libs+=("$f") ;; esac
      done
      # End-to-end tests drive the published binary, not the assemblies: nothing to instrument.
      [ ${#libs[@]} -gt 0 ] || { echo "testcheck $name: loads no engine assembly, skipped"; rm -rf "$copy"; continue; }
      dotnet "$WORK/build/bin/Engine.Fuzz.Instrument/Release/net9.0/Engine.Fuzz.Instrument.dll" "$copy/Engine.Fuzz.Runtime.dll" "${libs[@]}" >/dev/null || { status=1; continue; }
      line=$(cd "$copy" && timeout 900 dotnet test "$name.dll" 2>&1 | grep -E '^(Passed!|Failed!)' | tail -n 1)
      echo "testcheck $name (instrumented ${#libs[@]} assemblies): ${line:-no result}"
      case "$line" in Passed!*) ;; *) status=1 ;; esac
    done
    exit $status ;;
  selftest)
    secs="${2:-120}"
    build || exit 1
    status=0
    # Each planted fault must end as a written finding (run exit 1 + findings/<t>/crash-*) within the time:
    #   selftest        4-byte magic as byte compares, behind a type byte and a length check
    #   selftest-cmp32  4-byte magic as one 32-bit compare, automatic dictionary off: only the split compares find it
    #   selftest-hang   an input that spins: the 1 s watchdog
    #   selftest-oob    a read past the input: the guard page and the supervisor
    for spec in "selftest" "selftest-cmp32 --no-auto-dict" "selftest-hang" "selftest-oob"; do
      set -- $spec
      rm -rf "$FUZZ/findings/$1"
      start=$(date +%s.%N)
      driver run "$1" "$secs" "${@:2}" 2>/dev/null | grep -E '^(==CRASH==|CRASH)'
      rc=${PIPESTATUS[0]}
      took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
      if [ "$rc" = 1 ] && ls "$FUZZ/findings/$1"/crash-* >/dev/null 2>&1; then
        echo "selftest $1: planted fault FOUND in $took s (wall, with start-up)"
      else
        echo "selftest $1: planted fault NOT found in $secs s (exit $rc)"; status=1
      fi
      rm -rf "$FUZZ/findings/$1"
    done
    [ $status = 0 ] && echo "selftest: PASS" || echo "selftest: FAIL"
    exit $status ;;
  all)
    secs="${2:?usage: run.sh all SECONDS}"; shift 2
    build || exit 1
    status=0; summary=()
    for t in $(driver list | grep -v '\[selftest\]' | awk '{print $1}'); do
      echo "=== $t ($secs s)"
      driver run "$t" "$secs" "$@" | tee "$WORK/last-$t.log" | grep -E '^(INITED|#.*pulse|RESULT|CRASH|==CRASH==)'
      rc=${PIPESTATUS[0]}
      [ "$rc" = 0 ] || status=1
      summary+=("$(grep '^RESULT' "$WORK/last-$t.log" || echo "CRASHED target=$t exit=$rc")")
    done
    echo "=== summary"; printf '%s\n' "${summary[@]}"
    # The same as a markdown table (for fuzz/results.md after a campaign).
    {
      echo "| target | seconds | runs | exec/s | edges | features | corpus | crashes |"
      echo "|---|---|---|---|---|---|---|---|"
      printf '%s\n' "${summary[@]}" | awk '
        /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", v["target"], v["seconds"], v["execs"], v["exec_per_s"], v["edges"], v["features"], v["corpus"], v["crashes"] }
        /^CRASHED/ { split($2, kv, "="); printf "| %s | | | | | | | CRASH (see fuzz/findings/%s) |\n", kv[2], kv[2] }'
    } > "$WORK/results.md"
    echo "(table in $WORK/results.md)"
    exit $status ;;
  *)
    target="$cmd"; secs="${2:-60}"; shift; [ $# -gt 0 ] && shift
    build || exit 1
    driver run "$target" "$secs" "$@" ;;
esac
