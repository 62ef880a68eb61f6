#!/usr/bin/env bash
# Submits a SparkSlim run to Hadoop/YARN with spark-submit. The driver trains and the executors do
# the parallel work; in client mode (the default) the driver runs where you launch it, in cluster
# mode in a YARN container (the script then waits for the run and exits with its status). Needs
# SPARK_HOME (Spark 3.5, Scala 2.12) and HADOOP_CONF_DIR. Builds the application jar (Spark and
# Hadoop left out) when it is missing or older than the sources.
#
#   submit-scripts/spark-submit-yarn.sh CONF [CONF ...] [--set key=value ...] [--from STAGE]
#
# Later files override earlier ones: conf/fashion-mnist-full.conf conf/yarn.conf runs the full recipe
# with the usual cluster overrides.
#
# Environment: SPARKSLIM_DEPLOY_MODE (client or cluster), SPARKSLIM_DRIVER_MEMORY (default 8g),
# SPARKSLIM_DRIVER_OFFHEAP (8g), SPARKSLIM_EXECUTORS (4), SPARKSLIM_EXECUTOR_CORES (2),
# SPARKSLIM_EXECUTOR_MEMORY (6g), SPARKSLIM_EXECUTOR_OFFHEAP (4g), SPARKSLIM_QUEUE (default),
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

confs=()
while [ $# -gt 0 ] && [[ "$1" != --* ]]; do
  confs+=("$1")
  shift
done
[ ${#confs[@]} -ge 1 ] || { echo "usage: $0 CONF [CONF ...] [--set key=value ...] [--from STAGE]" >&2; exit 2; }
deploy_mode="${SPARKSLIM_DEPLOY_MODE:-client}"
ship=()
run_confs=("${confs[@]}")
if [ "$deploy_mode" = cluster ]; then
  # the driver starts in a container's working directory: the configs travel with it
  ship=(--files "$(IFS=,; echo "${confs[*]}")")
  run_confs=()
  for c in "${confs[@]}"; do run_confs+=("$(basename "$c")"); done
fi
# shellcheck source=submit-scripts/jvm-flags.sh
source "$root/submit-scripts/jvm-flags.sh"

# The native libraries' settings of this environment (OpenBLAS's core type, OpenMP's threads, oneDNN's
# instruction set cap) go to the containers of the driver and the executors too: they choose the
# kernels, and so the rounding, and a YARN container starts with an environment of its own. With them
# a run computes the same model in client and in cluster mode.
native_env=()
while IFS='=' read -r name value; do
  case "$name" in
    OPENBLAS_*|OMP_*|MKL_*|ONEDNN_*|DNNL_*)
      native_env+=(--conf "spark.yarn.appMasterEnv.$name=$value" --conf "spark.executorEnv.$name=$value") ;;
  esac
done < <(env)

# ND4J keeps tensors off the Java heap, where YARN counts them against the container: each JVM's
# container is its heap plus an overhead that holds ND4J's limit (the *_OFFHEAP size) and the JVM's
# own non-heap memory, and ND4J is told both limits, so it frees memory before YARN kills the container.
megabytes() {
  case "$1" in
    *[gG]) echo $(( ${1%[gG]} * 1024 )) ;;
    *[mM]) echo "${1%[mM]}" ;;
    *) echo "sparkslim: memory sizes end in g or m, got '$1'" >&2; exit 2 ;;
  esac
}
driver_heap=$(megabytes "${SPARKSLIM_DRIVER_MEMORY:-8g}")
driver_offheap=$(megabytes "${SPARKSLIM_DRIVER_OFFHEAP:-8g}")
executor_heap=$(megabytes "${SPARKSLIM_EXECUTOR_MEMORY:-6g}")
executor_offheap=$(megabytes "${SPARKSLIM_EXECUTOR_OFFHEAP:-4g}")
driver_overhead=$(( driver_offheap + driver_heap / 10 + 384 ))
executor_overhead=$(( executor_offheap + executor_heap / 10 + 384 ))
nd4j_limits() { # heap MB, off-heap MB, overhead MB
  echo "-Dorg.bytedeco.javacpp.maxbytes=$2m -Dorg.bytedeco.javacpp.maxphysicalbytes=$(( $1 + $3 ))m"
}
driver_opts="${SPARKSLIM_JVM_FLAGS[*]} $(nd4j_limits "$driver_heap" "$driver_offheap" "$driver_overhead")"
executor_opts="${SPARKSLIM_JVM_FLAGS[*]} $(nd4j_limits "$executor_heap" "$executor_offheap" "$executor_overhead")"

# A JVM whose ND4J failed to load keeps failing (a failed static initializer stays failed), and Spark
# does not count that error as fatal: without exclusion every retry of the task lands on the same
# executor. With it, retries go to other executors, and an executor that keeps failing is replaced.
exec "$SPARK_HOME/bin/spark-submit" \
  --master "${SPARKSLIM_MASTER:-yarn}" --deploy-mode "$deploy_mode" \
  --name "sparkslim $(basename "${confs[0]}" .conf)" \
  --queue "${SPARKSLIM_QUEUE:-default}" \
  --driver-memory "${driver_heap}m" \
  --num-executors "${SPARKSLIM_EXECUTORS:-4}" \
  --executor-cores "${SPARKSLIM_EXECUTOR_CORES:-2}" \
  --executor-memory "${executor_heap}m" \
  --conf "spark.driver.memoryOverhead=${driver_overhead}m" \
  --conf "spark.executor.memoryOverhead=${executor_overhead}m" \
  --conf "spark.driver.extraJavaOptions=$driver_opts" \
  --conf "spark.executor.extraJavaOptions=$executor_opts" \
  --conf spark.excludeOnFailure.enabled=true \
  --conf spark.excludeOnFailure.killExcludedExecutors=true \
  "${native_env[@]}" \
  "${ship[@]}" \
  --class org.sparkslim.jobs.cli.SparkSlim \
  "$jar" run "${run_confs[@]}" "$@"
