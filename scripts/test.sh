#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The one test command: install what is needed (scripts/setup.sh), then
# build and run the whole suite (unit + e2e) twice:
#   1. a plain build   (build-test/)
#   2. ASan + UBSan    (build-asan/), leak detection on; every test but
#      the suite "plain-only" (see tests/meson.build)
# Exits non-zero when anything fails. Must run as root (the e2e tests start
# private system buses, the real polkitd in a mount namespace and QEMU).
#
# After each test stage no process the tests started may be alive: any
# left over is named, killed, and fails the stage.
#
# Environment:
#   FERRY_TEST_SKIP_ASAN=1  run the plain stage only
#   FERRY_TEST_ARGS         extra arguments for "meson test" (e.g. --suite unit)
#   FERRY_KEEP_TMP=1        keep the run's temporary directory (and the hosts'
#                           trees in it)
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root (e.g. sudo ./scripts/test.sh)" >&2
	exit 1
fi

t_all=$(date +%s)
t_stage=$t_all
timings=""

now() { date +%s; }
stage() {
	printf '\n==== test.sh: %s ====\n' "$1"
	t_stage=$(now)
}
stage_done() {
	el=$(($(now) - t_stage))
	timings="$timings$(printf '  %-28s %4ds' "$1" "$el")
"
	printf '==== test.sh: %s took %ds ====\n' "$1" "$el"
}
report() {
	printf '\n==== test.sh: timings ====\n%s  %-28s %4ds\n' "$timings" total $(($(now) - t_all))
}
fail() {
	report
	printf '\n==== test.sh: FAILED: %s ====\n' "$1" >&2
	exit 1
}
# A failing test stage does not stop the other stage: both results count.
failed=""
stage_failed() {
	failed="$failed${failed:+, }$1"
	printf '==== test.sh: %s FAILED ====\n' "$1" >&2
}

# meson setup of a fresh build tree in $1 (wiped when it exists already).
fresh_setup() {
	dir=$1
	shift
	if [ -d "$dir/meson-private" ]; then
		meson setup --wipe "$@" "$dir" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			return 1
		}
	else
		rm -rf "$dir"
		meson setup "$@" "$dir" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			return 1
		}
	fi
	rm -f "$dir.setup.log"
}

stage setup
"$top/scripts/setup.sh" || fail "scripts/setup.sh"
stage_done setup

# The e2e tests must run, not skip, in the test command.
unset FERRY_ALLOW_SKIP || true

# Everything the tests create lives in a directory of this run: the hosts'
# trees (FERRY_TMP) and any other temporary directory (TMPDIR: the unit
# tests', the harness self-test's).  Every process they start inherits
# FERRY_TEST_RUN (ferryd, polkitd, dbus-daemon, QEMU) or names that
# directory on its command line (the unprivileged callers run with a
# cleared environment).  Nothing else on the machine (another run of
# these tests included) matches either: that is how leftovers are found.
run_tmp=$(mktemp -d /tmp/ferry-run.XXXXXX)
chmod 755 "$run_tmp" # nobody reaches the hosts' bus sockets
cleanup() {
	# after an interrupt or a failed build, too
	if [ -n "${asan_build_pid:-}" ]; then
		pkill -TERM -P "$asan_build_pid" 2>/dev/null || true
		kill "$asan_build_pid" 2>/dev/null || true
		wait "$asan_build_pid" 2>/dev/null || true
	fi
	leftovers || true
	if [ -n "${FERRY_KEEP_TMP:-}" ]; then
		echo "test.sh: keeping $run_tmp"
	else
		rm -rf "$run_tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# meson test with the run's environment (see above).
run_tests() {
	env FERRY_TEST_RUN="$run_tmp" FERRY_TMP="$run_tmp" TMPDIR="$run_tmp" \
		meson test "$@"
}

# Names, kills and waits out the processes of this run still alive (not
# this script, nor its ancestors); returns non-zero when there were any.
leftovers() {
	FERRY_RUN_TMP=$run_tmp /usr/bin/python3 - <<'EOF'
import os
import signal
import sys
import time

run = os.environ['FERRY_RUN_TMP']
marker = ('FERRY_TEST_RUN=' + run).encode()
needle = (run + '/').encode()


def stat(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()


def alive(pid):
    try:
        return stat(pid)[0] not in 'ZX'
    except OSError:
        return False


mine = set()
pid = os.getpid()
while pid > 1:
    mine.add(pid)
    pid = int(stat(pid)[1])
found = {}
for d in os.listdir('/proc'):
    if not d.isdigit() or int(d) in mine or not alive(int(d)):
        continue
    try:
        with open('/proc/%s/environ' % d, 'rb') as f:
            env = f.read().split(b'\0')
        with open('/proc/%s/cmdline' % d, 'rb') as f:
            cmd = f.read()
    except OSError:
        continue
    if marker in env or needle in cmd:
        found[int(d)] = cmd.replace(b'\0', b' ').decode(errors='replace')
if not found:
    sys.exit(0)
print('test.sh: %d process(es) left behind by the tests:' % len(found),
      file=sys.stderr)
for pid, cmd in sorted(found.items()):
    print('  pid %d: %s' % (pid, cmd.strip()[:400]), file=sys.stderr)
for pid in found:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
deadline = time.monotonic() + 10
while any(alive(p) for p in found) and time.monotonic() < deadline:
    time.sleep(0.05)
left = [p for p in found if alive(p)]
print('test.sh: killed them%s' % (
    ' (still alive: %s)' % left if left else ''), file=sys.stderr)
sys.exit(1)
EOF
}
# meson sets its own ASAN_OPTIONS/UBSAN_OPTIONS only when they are unset;
# keep the plain stage free of any inherited ones.
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS || true

# ---- stage 1: plain build
stage "build (plain)"
fresh_setup build-test || fail "meson setup build-test"
ninja -C build-test || fail "build (plain)"
stage_done "build (plain)"

# The ASan+UBSan tree builds while the plain tests run, at the lowest CPU
# priority: the tests wait on their guests much of the time, and the
# compiler only takes what they leave (nice 19 against 0 is about 1/70 of
# a core when both want one). Its log is printed only when it fails.
asan_opts="-Db_sanitize=address,undefined -Db_lundef=false"
asan_build_pid=""
if [ "${FERRY_TEST_SKIP_ASAN:-0}" != 1 ]; then
	(
		# shellcheck disable=SC2086
		fresh_setup build-asan $asan_opts &&
			nice -n 19 ninja -C build-asan
	) >"$run_tmp/build-asan.log" 2>&1 &
	asan_build_pid=$!
fi

stage "tests (plain)"
# shellcheck disable=SC2086
run_tests -C build-test --print-errorlogs ${FERRY_TEST_ARGS:-} ||
	stage_failed "tests (plain)"
leftovers || stage_failed "tests (plain): processes left behind"
stage_done "tests (plain)"

if [ "${FERRY_TEST_SKIP_ASAN:-0}" = 1 ]; then
	[ -z "$failed" ] || fail "$failed"
	report
	echo "==== test.sh: PASSED (ASan stage skipped) ===="
	exit 0
fi

# ---- stage 2: AddressSanitizer + UndefinedBehaviorSanitizer
stage "build (asan+ubsan)"
if [ -n "$asan_build_pid" ]; then
	# built during the plain tests (above); wait for it to end
	asan_rc=0
	wait "$asan_build_pid" || asan_rc=$?
	asan_build_pid=""
	[ "$asan_rc" = 0 ] || {
		cat "$run_tmp/build-asan.log" >&2
		fail "${failed:+$failed, }build (asan+ubsan)"
	}
fi
stage_done "build (asan+ubsan)"

stage "tests (asan+ubsan)"
# ferryd runs as a child of the Python tests and inherits these. Reports go
# to files (one per process) rather than stderr: a ferryd that leaks at exit
# still exits "normally" as far as the test is concerned, and its log is
# deleted with the host's tree, so the files are the reliable record. Any
# report file fails the stage and is printed below.
san_dir="$top/build-asan/sanitizer-reports"
rm -rf "$san_dir"
mkdir -p "$san_dir"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:fast_unwind_on_malloc=0:print_summary=1:log_path=$san_dir/asan"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:print_summary=1:log_path=$san_dir/ubsan"
LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
rc=0
# Every test but the suite "plain-only" (tests/meson.build says why).
# shellcheck disable=SC2086
run_tests -C build-asan --print-errorlogs --timeout-multiplier 3 --no-suite plain-only \
	${FERRY_TEST_ARGS:-} || rc=$?
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
reports=$(find "$san_dir" -type f -size +0 | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		# which test started that process (the harness logs ferryd's pid)
		pid=${f##*.}
		where=$(awk -v pid="(pid $pid)" '
			/^test: / { t = $0; sub(/^test: +/, "", t) }
			index($0, pid) { print t; exit }' \
			build-asan/meson-logs/testlog.txt 2>/dev/null || true)
		label="process $pid"
		[ -z "$where" ] || label="process $pid, during $where"
		printf '\n===== sanitizer report %s (%s) =====\n' "$f" "$label" >&2
		cat "$f" >&2
	done
	printf '\n===== end of sanitizer reports =====\n' >&2
	rc=1
fi
[ "$rc" = 0 ] || stage_failed "tests (asan+ubsan)"
leftovers || stage_failed "tests (asan+ubsan): processes left behind"
stage_done "tests (asan+ubsan)"
[ -z "$failed" ] || fail "$failed"

report
echo "==== test.sh: PASSED ===="
