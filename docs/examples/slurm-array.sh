#!/bin/bash
# A sharded migration as a Slurm job array (docs/sharding.md): 16 tasks, each
# `xtstore migrate --shard auto` (I and N from SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT), the array's job id as the
# run id, one run log per shard in the target bucket; then a summary job that
# runs after every task, whatever became of them.
#
#   sbatch slurm-array.sh
#
# Re-running one shard (the summary says which did not report or failed),
# say shard 5 of 16 of job 123456: the same run id and log, the shard given
# explicitly (the log appends: the new attempt supersedes the old one's
# records in the summary):
#   xtstore migrate --shard 5/16 --run-id lake-123456 --no-progress \
#     lake:raw/2024 archive:raw/2024 --log archive:lake-logs/lake-123456/5.jsonl
# (The logs are named by task id, which is the shard with --array=0-15.)
#
# Credentials: a file only you can read, which the config names with
# $file:PATH (the usual way on a shared cluster: no secret on a command line,
# in the environment of other users' `ps`, or in the job script):
#   install -m 600 /dev/null ~/.config/xtstore/azure.key   # then write the key in it
# and ~/.config/xtstore/xt_config.yaml (your user config) has
#   external-services:
#     lake: {type: "storage", provider: "azure", account: "mystorageacct",
#            key: "$file:~/.config/xtstore/azure.key"}
#     archive: {type: "storage", provider: "s3", region: "eu-west-1", profile: "archive"}
#
#SBATCH --job-name=lake-2024
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=24:00:00
#SBATCH --output=lake-2024-%A_%a.out
set -euo pipefail

run="lake-${SLURM_ARRAY_JOB_ID}"
logs="archive:lake-logs/${run}"

# The first task submits the summary, to run once the whole array has ended.
if [ "${SLURM_ARRAY_TASK_ID}" = "${SLURM_ARRAY_TASK_MIN:-0}" ]; then
  list=""
  for ((i = SLURM_ARRAY_TASK_MIN; i <= SLURM_ARRAY_TASK_MAX;
         i += ${SLURM_ARRAY_TASK_STEP:-1})); do
    list="$list $logs/$i.jsonl"
  done
  sbatch --dependency="afterany:${SLURM_ARRAY_JOB_ID}" \
    --job-name="${run}-summary" --output="${run}-summary.out" \
    --wrap="xtstore runlog summary$list"
fi

exec xtstore migrate --shard auto --run-id "$run" --no-progress \
  lake:raw/2024 archive:raw/2024 --log "$logs/${SLURM_ARRAY_TASK_ID}.jsonl"
