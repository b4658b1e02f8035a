#!/usr/bin/env bash
# Mutation testing of the verdict logic: one cargo-mutants run per group of
# files, each with only the test targets that cover them. Run by `make
# mutants` (which exports VOUCH_NO_SKIP=1 and the tool paths); see
# docs/MUTANTS.md. Arguments: group names to run (default: all).
# MUTANTS_ARGS: more cargo-mutants options (e.g. `-F judge` for some
# functions only, `--baseline=skip --timeout 300`); MUTANTS_TESTS: test
# targets to use instead of the group's own (a quicker, weaker run).
#
# The mutants are built and tested in place (`--in-place`) in a scratch copy
# of the tree ($MUTANTS_DIR), so builds stay incremental: cargo-mutants' own
# copy per run rebuilds every crate. The worktree itself is never mutated.
#
# Each group runs in two passes: every mutant against the unit tests alone
# (`--lib`, seconds a mutant), then only the mutants that pass missed again
# with the group's end-to-end targets (`--iterate` skips the caught ones).
# MUTANTS_LIB_FIRST=0 runs the group's targets at once.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${MUTANTS_DIR:-${TMPDIR:-/tmp}/vouch-mutants-$(basename "$repo")}
out=${MUTANTS_OUT:-$repo/mutants.out}

# name | files | test targets
groups=(
  "check|src/check/mod.rs src/check/policy.rs|--lib --test check --test trust_decisions --test rubric --test signals"
  "provenance|src/provenance/verify.rs src/provenance/source_type.rs src/provenance/validator.rs src/provenance/signals.rs src/trust.rs src/trust/lists.rs|--lib --test sign_verify --test signals --test timestamps --test history --test trust_decisions --test trust_lists --test trusttime --test check --test interop --test outputs --test install"
  "anchor|src/anchor/mod.rs src/anchor/headers.rs src/anchor/evm.rs src/anchor/pow.rs src/anchor/ots/verify.rs src/anchor/ots/bitcoin.rs|--lib --test anchor_ots --test anchor_evm --test properties --test check"
  "walk|src/walk.rs|--lib --test walking --test check"
  "rubric|src/rubric/mod.rs src/rubric/formula.rs|--lib --test rubric --test signals --test properties"
)

if [ "${VOUCH_NO_SKIP:-}" != 1 ]; then
  echo "mutants: set VOUCH_NO_SKIP=1 (make mutants does): a skipped test must not let a mutant live" >&2
  exit 2
fi
# The shared material stays where it is; the scratch copy finds it here.
export VOUCH_SHARED=${VOUCH_SHARED:-$(cd "$repo/.." && pwd)/shared}

mkdir -p "$scratch" "$out"
find "$scratch" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
# tar keeps modification times, so cargo sees unchanged files as unchanged.
tar -C "$repo" --exclude=./target --exclude=./.git --exclude=./mutants.out --exclude=./.deps --exclude=./fuzz \
  -cf - . | tar -C "$scratch" -xf -
if [ ! -d "$scratch/target" ] && [ -d "$repo/target" ]; then
  echo "mutants: copying target/ into $scratch (once)"
  cp -a "$repo/target" "$scratch/"
fi

status=0
for group in "${groups[@]}"; do
  IFS='|' read -r name files tests <<<"$group"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  # cargo-mutants adds --file to the config's examine_globs, so the other
  # groups' files are excluded instead.
  file_args=()
  for other in "${groups[@]}"; do
    IFS='|' read -r _ other_files _ <<<"$other"
    for f in $other_files; do
      [[ " $files " == *" $f "* ]] || file_args+=(--exclude "$f")
    done
  done
  tests=${MUTANTS_TESTS:-$tests}
  passes=("$tests")
  if [ "${MUTANTS_LIB_FIRST:-1}" = 1 ] && [ "$tests" != --lib ]; then
    passes=(--lib "$tests")
  fi
  rm -rf "$out/$name"
  iterate=()
  for pass_tests in "${passes[@]}"; do
    if [ ${#iterate[@]} -gt 0 ] && [ ! -s "$out/$name/mutants.out/missed.txt" ]; then
      break
    fi
    echo "== mutants: $name ($files) with $pass_tests"
    started=$(date +%s)
    set +e
    # The test targets go to every cargo invocation (-C), the build too:
    # after `--` they would reach `cargo test` alone, and each mutant's
    # build would compile and link every test target of the package.
    target_args=()
    for arg in $pass_tests; do target_args+=("-C=$arg"); done
    # The vouch crate alone is built without debug info: its build and link
    # take about half the time, and no dependency is rebuilt for it.
    # shellcheck disable=SC2086 # MUTANTS_ARGS is a list of options
    (cd "$scratch" && cargo mutants --in-place --no-shuffle "${file_args[@]}" "${iterate[@]}" \
      -C=--config=profile.dev.package.vouch.debug=0 "${target_args[@]}" \
      --output "$out/$name" ${MUTANTS_ARGS:-})
    code=$?
    set -e
    echo "== mutants: $name took $(( $(date +%s) - started )) s (cargo-mutants exit $code)"
    # 0: all caught; 2: some missed; 3: some timed out. Anything else (a
    # failing baseline, a usage error) is a failure of the run itself.
    case $code in
      0 | 2 | 3) ;;
      *) status=1 ;;
    esac
    # The second pass runs its own baseline (the group's targets, so its
    # timeouts fit them) and skips what the first caught or found unviable.
    iterate=(--iterate)
  done
  results="$out/$name/mutants.out"
  for kind in caught missed unviable timeout; do
    count=$(cat "$results/$kind.txt" 2>/dev/null | grep -c . || true)
    printf '   %-9s %s\n' "$kind" "${count:-0}"
  done
  if [ -s "$results/previously_caught.txt" ]; then
    printf '   %-9s %s\n' "caught or unviable in the first pass (--lib)" "$(grep -c . "$results/previously_caught.txt")"
  fi
  if [ -s "$results/missed.txt" ]; then
    echo "   missed mutants:"
    sed 's/^/     /' "$results/missed.txt"
  fi
done
exit $status
