# Sourced by the launchers: the JVM flags every SparkSlim JVM (driver and executors) needs.
# Spark 3.5 on Java 17 needs these opens; DL4J needs the helpers flag to use oneDNN.
# (The same list is in the root pom.xml for tests and in SparkSessions for executors.)
SPARKSLIM_JVM_FLAGS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false
  -Dorg.eclipse.deeplearning4j.helpers.disable=false
)
# ND4J keeps tensors off the Java heap; these bound it.
SPARKSLIM_MEMORY_FLAGS=(
  -Dorg.bytedeco.javacpp.maxbytes=8G
  -Dorg.bytedeco.javacpp.maxphysicalbytes=16G
)
