"""A sharded migration from Spark (docs/sharding.md): one task per shard
number, mapPartitions over range(N) with N partitions, each task running
`xtstore migrate --shard I/N` on its executor, one run log per shard in the
target bucket, then `xtstore runlog summary` on the driver. This is the
ADLS -> OCI migrator's Spark job (OCI Data Flow) with xtstore doing the
copying: Spark only schedules and retries shards.

    spark-submit --conf spark.task.maxFailures=4 spark_shards.py lake:raw/2024 archive:raw/2024 16

xtstore must be installed on the executors (the image, or a bootstrap
action). Credentials: the config reads them from the executors' environment
($env:NAME), filled from the platform's secret store, e.g. on Spark on
Kubernetes
    --conf spark.kubernetes.executor.secretKeyRef.AZURE_STORAGE_KEY=xtstore-creds:AZURE_STORAGE_KEY
    --conf spark.kubernetes.driver.secretKeyRef.AZURE_STORAGE_KEY=xtstore-creds:AZURE_STORAGE_KEY
and the config file shipped with --files xt.yaml and named by
    --conf spark.executorEnv.XTSTORE_CONFIG=xt.yaml
(on OCI Data Flow, read the key from OCI Vault in the task instead and pass it
in env below).
"""
import subprocess
import sys
import time

from pyspark.sql import SparkSession


def run_shards(src, dst, n, run_id, logs):
    """The function each partition runs: its shard numbers, one process each."""

    def task(shards):
        for i in shards:
            # A line per object is not for the executor's memory: the
            # shard's log has them. Its errors are kept for the message.
            p = subprocess.run(
                ["xtstore", "-q", "migrate", "--shard", "%d/%d" % (i, n),
                 "--run-id", run_id, "--no-progress", src, dst,
                 "--log", "%s/%d.jsonl" % (logs, i)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            # Exit 8 (some objects failed) is recorded in the shard's log:
            # not a reason to retry it here; anything else is.
            if p.returncode not in (0, 8):
                raise RuntimeError("shard %d/%d: exit %d: %s"
                                   % (i, n, p.returncode, p.stderr.strip()))
            yield (i, p.returncode)

    return task


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run_id = "spark-" + time.strftime("%Y%m%d%H%M%S", time.gmtime())
    logs = dst.split(":", 1)[0] + ":migration-logs/" + run_id
    spark = SparkSession.builder.appName("xtstore " + run_id).getOrCreate()
    sc = spark.sparkContext
    # N partitions of one shard number each: Spark retries a failed shard
    # alone (spark.task.maxFailures); a re-run copies only what is missing.
    done = (sc.parallelize(range(n), n)
              .mapPartitions(run_shards(src, dst, n, run_id, logs))
              .collect())
    print("shards done:", sorted(done))
    summary = subprocess.run(
        ["xtstore", "runlog", "summary"]
        + ["%s/%d.jsonl" % (logs, i) for i in range(n)])
    spark.stop()
    sys.exit(summary.returncode)


if __name__ == "__main__":
    main()
