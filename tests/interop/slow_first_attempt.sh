#!/bin/bash
# Stands in for `vouch` on PATH inside the Slurm test's jobs. The first
# attempt of array task $VOUCH_TEST_SLOW_TASK runs the real binary at a
# small duty cycle (stopped most of the time), so the test can requeue it
# while it is provably mid-run; every other run is the real binary as is.
if [ "${SLURM_ARRAY_TASK_ID:-}" = "${VOUCH_TEST_SLOW_TASK:-}" ] && [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then
  "$VOUCH_TEST_BIN" "$@" &
  pid=$!
  while kill -STOP "$pid" 2>/dev/null; do
    sleep 0.1
    kill -CONT "$pid" 2>/dev/null
    sleep 0.002
  done
  wait "$pid"
  exit $?
fi
exec "$VOUCH_TEST_BIN" "$@"
