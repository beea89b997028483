#!/usr/bin/env bash
# scripts/lint.sh (`make lint`) judged against a stand-in run-clang-tidy whose output is known:
# a finding printed in colour (run-clang-tidy passes --use-color even into a pipe) fails the run
# with the finding named; a run with no finding passes; a log in which clang-tidy never ran is an
# error, not a pass. Run by ctest as lint.lint_script.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/build"
echo '[]' >"$work/build/compile_commands.json"
printf '#!/bin/sh\nexit 0\n' >"$work/bin/clang-tidy-14"
fail() {
  echo "lint_script_test: $*" >&2
  exit 1
}
# run CASE: the stand-in prints what CASE says; sets status and out.
run() {
  cat >"$work/bin/run-clang-tidy-14" <<SCRIPT
#!/usr/bin/env bash
case "$1" in
  finding)
    echo "clang-tidy-14 --use-color -p=build $root/src/x.cpp"
    printf '\033[1m$root/src/x.cpp:3:5: \033[0;1;35mwarning: \033[0m\033[1mstatement should be inside braces [readability-braces-around-statements]\033[0m\n'
    ;;
  clean) echo "clang-tidy-14 --use-color -p=build $root/src/x.cpp" ;;
  none) ;;
esac
SCRIPT
  chmod +x "$work/bin/run-clang-tidy-14" "$work/bin/clang-tidy-14"
  status=0
  out=$(PATH="$work/bin:$PATH" "$root/scripts/lint.sh" "$work/build" 1 2>&1) || status=$?
}

run finding
[[ $status -eq 1 ]] || fail "a coloured finding: exit $status, not 1: $out"
grep -q "^src/x.cpp:3:5: warning: statement should be inside braces" <<<"$out" || fail "the finding is not named: $out"
run clean
[[ $status -eq 0 ]] || fail "no finding: exit $status, not 0: $out"
run none
[[ $status -eq 2 ]] || fail "clang-tidy never ran: exit $status, not 2: $out"
echo "lint_script_test: passed"
