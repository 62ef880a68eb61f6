#!/usr/bin/env bash
# A scheduled (cron, Airflow) compression run. Each night runs the pipeline of CONF into a dated run
# directory, BASE/runs/<date>; when the newest earlier run did not complete (it failed or was
# killed), tonight resumes that run instead, from its first stage without a complete checkpoint.
# After a run completes, complete runs beyond the newest KEEP are deleted.
#
#   nightly.sh CONF BASE [--keep N] [--set key=value ...]
#
#   # crontab: every night at 01:30, keeping a week of runs
#   30 1 * * *  /opt/sparkslim/submit-scripts/nightly.sh /opt/sparkslim/conf/prune-vgg.conf /data/sparkslim --keep 7
#
# One log per night: BASE/logs/<date>.log. Exit codes: 0 the run completed; 2 bad config or input
# (fix it, the next night resumes); 1 any other failure (the next night resumes); 75 another run
# holds the lock (try later). SPARKSLIM_LAUNCHER names another launcher (spark-submit-yarn.sh, or any
# executable taking "run CONF --set ..."); NIGHTLY_DATE overrides the date.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage="usage: nightly.sh CONF BASE [--keep N] [--set key=value ...]"
conf="${1:?$usage}"
base="${2:?$usage}"
shift 2
keep=7
if [ "${1:-}" = "--keep" ]; then
  keep="${2:?$usage}"
  shift 2
fi
launcher="${SPARKSLIM_LAUNCHER:-sparkslim}"
[[ "$launcher" == /* ]] || launcher="$root/submit-scripts/$launcher"
today="${NIGHTLY_DATE:-$(date +%Y-%m-%d)}"
complete=".nightly-complete"
mkdir -p "$base/runs" "$base/logs"
log="$base/logs/$today.log"

# One run at a time: a slow night must not overlap the next.
exec 9>"$base/.nightly.lock"
if ! flock -n 9; then
  echo "$(date -Is) another nightly run holds $base/.nightly.lock; not starting" >> "$log"
  exit 75
fi

# Resume the newest earlier run if it did not complete; else start tonight's.
run_dir="$base/runs/$today"
newest="$(find "$base/runs" -mindepth 1 -maxdepth 1 -type d | sort | tail -n 1)"
if [ -n "$newest" ] && [ ! -e "$newest/$complete" ]; then
  run_dir="$newest"
fi

echo "$(date -Is) starting in $run_dir: $launcher run $conf $*" >> "$log"
status=0
if [ "$(basename "$launcher")" = "spark-submit-yarn.sh" ]; then
  "$launcher" "$conf" --set "run.dir=\"$run_dir\"" "$@" >> "$log" 2>&1 || status=$?
else
  "$launcher" run "$conf" --set "run.dir=\"$run_dir\"" "$@" >> "$log" 2>&1 || status=$?
fi
echo "$(date -Is) finished with exit code $status" >> "$log"
[ "$status" -ne 0 ] && exit "$status"

touch "$run_dir/$complete"
# Retention: the newest KEEP complete runs stay.
find "$base/runs" -mindepth 1 -maxdepth 1 -type d | sort -r | while read -r dir; do
  if [ -e "$dir/$complete" ]; then
    keep=$((keep - 1))
    if [ "$keep" -lt 0 ]; then
      echo "$(date -Is) retention: deleting $dir" >> "$log"
      rm -rf "$dir"
    fi
  fi
done
exit 0
