#!/usr/bin/env bash
# Submits a SparkSlim run to Hadoop/YARN with spark-submit (client mode: the driver trains, so it
# runs where you launch it; executors do the parallel work). Needs SPARK_HOME (Spark 3.5, Scala 2.12)
# and HADOOP_CONF_DIR. Builds the application jar (Spark and Hadoop left out) when it is missing or
# older than the sources.
#
#   submit-scripts/spark-submit-yarn.sh CONF [CONF ...] [--set key=value ...] [--from STAGE]
#
# Later files override earlier ones: conf/fashion-mnist-full.conf conf/yarn.conf runs the full recipe
# with the usual cluster overrides.
#
# Environment: SPARKSLIM_DRIVER_MEMORY (default 8g), SPARKSLIM_EXECUTORS (4),
# SPARKSLIM_EXECUTOR_CORES (2), SPARKSLIM_EXECUTOR_MEMORY (6g), SPARKSLIM_QUEUE (default),
# SPARKSLIM_MASTER (yarn; e.g. local[2] to try the application jar under spark-submit on one machine).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 (Scala 2.12) installation}"
: "${HADOOP_CONF_DIR:?set HADOOP_CONF_DIR to the Hadoop configuration directory of the cluster}"
[ $# -ge 1 ] || { echo "usage: $0 CONF [CONF ...] [--set key=value ...] [--from STAGE]" >&2; exit 2; }

jar="$root/jobs/target/sparkslim-jobs-yarn.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root/pom.xml" "$root/lib-compression" "$root/jobs" -path '*/target' -prune -o \
    -newer "$jar" -type f -print -quit)" ]; then
  echo "sparkslim: building the application jar (mvn package -Pyarn) ..." >&2
  (cd "$root" && mvn -B -q -ntp install -DskipTests -Pyarn -pl jobs -am) >&2
fi

conf="$1"
shift
# shellcheck source=submit-scripts/jvm-flags.sh
source "$root/submit-scripts/jvm-flags.sh"
java_opts="${SPARKSLIM_JVM_FLAGS[*]} ${SPARKSLIM_MEMORY_FLAGS[*]}"

exec "$SPARK_HOME/bin/spark-submit" \
  --master "${SPARKSLIM_MASTER:-yarn}" --deploy-mode client \
  --name "sparkslim $(basename "$conf" .conf)" \
  --queue "${SPARKSLIM_QUEUE:-default}" \
  --driver-memory "${SPARKSLIM_DRIVER_MEMORY:-8g}" \
  --num-executors "${SPARKSLIM_EXECUTORS:-4}" \
  --executor-cores "${SPARKSLIM_EXECUTOR_CORES:-2}" \
  --executor-memory "${SPARKSLIM_EXECUTOR_MEMORY:-6g}" \
  --conf "spark.driver.extraJavaOptions=$java_opts" \
  --conf "spark.executor.extraJavaOptions=$java_opts" \
  --class org.sparkslim.jobs.cli.SparkSlim \
  "$jar" run "$conf" "$@"
