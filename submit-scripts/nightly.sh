#!/usr/bin/env bash
# A scheduled (cron) compression run. Runs the pipeline of CONF into a fixed run directory, so a run
# that failed or was killed last night resumes at the first stage without a complete checkpoint.
# Logs go to <log-dir>/<date>.log; the exit code is the pipeline's.
#
#   # crontab: every night at 01:30
#   30 1 * * *  /opt/sparkslim/submit-scripts/nightly.sh /opt/sparkslim/conf/fashion-mnist-full.conf /var/log/sparkslim
#
# Set SPARKSLIM_LAUNCHER=spark-submit-yarn.sh to run on YARN instead of locally.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:?usage: nightly.sh CONF LOG_DIR [--set key=value ...]}"
log_dir="${2:?usage: nightly.sh CONF LOG_DIR [--set key=value ...]}"
shift 2
launcher="$root/submit-scripts/${SPARKSLIM_LAUNCHER:-sparkslim}"
mkdir -p "$log_dir"
log="$log_dir/$(date +%Y-%m-%d).log"

# One run at a time: a slow night must not overlap the next.
exec 9>"$log_dir/.nightly.lock"
if ! flock -n 9; then
  echo "$(date -Is) another nightly run holds $log_dir/.nightly.lock; not starting" >> "$log"
  exit 75
fi

echo "$(date -Is) starting: $launcher run $conf $*" >> "$log"
status=0
if [ "$(basename "$launcher")" = "sparkslim" ]; then
  "$launcher" run "$conf" "$@" >> "$log" 2>&1 || status=$?
else
  "$launcher" "$conf" "$@" >> "$log" 2>&1 || status=$?
fi
echo "$(date -Is) finished with exit code $status" >> "$log"
exit $status
