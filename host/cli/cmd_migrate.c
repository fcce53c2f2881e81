/*
** cmd_migrate.c -- `xtstore migrate`: copy what a target lacks or has
** different, and log every object of the run (the run itself is sync's,
** cmd_sync.c).
*/
#include "cli.h"

static int migrate_run(cli_global *g, const cli_cmd *self, int argc,
                       char **argv)
{
  return cli_compare_run(g, self, argc, argv, 1);
}

const cli_cmd cli_cmd_migrate = {
  "migrate",
  "copy a tree to another service, logging every object (JSON Lines)",
  "Usage: xtstore migrate [OPTIONS] SRC DST [--log FILE|SERVICE:C/KEY]\n"
  "\n"
  "Copy every object of SRC that DST lacks ('new') or has different\n"
  "('update') -- compared as sync compares: names and sizes from complete\n"
  "listings, then with --checksum CRC-32Cs when both listings carry them,\n"
  "else MD5s when both do, else times (the source's newer). Objects the\n"
  "same at DST are 'equal' and left alone; nothing is deleted. Re-running\n"
  "after an interruption copies only what is still missing or different.\n"
  "A SRC with no objects is refused (exit 4: a wrong or empty prefix)\n"
  "unless --allow-empty-source.\n"
  "\n"
  "The run log gets one JSON object per line per object, appended:\n"
  "  {run_id: \"20260821120000123456\" (UTC, one per run),\n"
  "   run_date: \"2026-08-21T12:00:00Z\", source_name: \"svc:c/k\",\n"
  "   source_size: N, source_crc32c: \"e3069283\"|null,\n"
  "   target_name: \"svc:c/k\", target_size: N|null,\n"
  "   start_time, end_time: \"2026-08-21T12:00:00.123Z\", run_time: SECONDS,\n"
  "   status: \"equal|update|new|failed\", error: null|MESSAGE}\n"
  "target_size is the size at DST after the run (null: none);\n"
  "source_crc32c the source's CRC-32C as listed (null: none). A log FILE\n"
  "is appended as the run goes; a log on a service is written at the end\n"
  "of the run: appended where the service can append, else rewritten\n"
  "(only if unchanged since it was read, where the service supports\n"
  "conditions) -- after ^C too: an interrupted run stores the records of\n"
  "what it did, and says where the log is.\n"
  "\n"
  "Shards (docs/sharding.md): with --shard I/N the run handles only the\n"
  "objects whose name relative to the tree hashes (32-bit FNV-1a, mod N) to\n"
  "I; N such processes, run anywhere at once, together do the whole run.\n"
  "--shard auto takes I (and N) from a scheduler's array task:\n"
  "JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID\n"
  "(with SLURM_ARRAY_TASK_COUNT), AWS_BATCH_JOB_ARRAY_INDEX; N from\n"
  "auto/N or XTSTORE_SHARD_COUNT where the scheduler gives none. A sharded\n"
  "run's records also carry shard: \"I/N\" and attempt (this process's\n"
  "start stamp), and each process ends with one record {run_id, shard,\n"
  "attempt, record: \"shard_end\", objects, count, bytes, ok, error}. Give\n"
  "the shards one --run-id (or XTSTORE_RUN_ID); `xtstore runlog summary`\n"
  "then says whether every shard reported.\n"
  "\n"
  "Options:\n"
  "  --log FILE|SVC:C/KEY  the run log (none without)\n"
  "  --allow-empty-source  run even when SRC has no objects\n"
  "  --shard I/N|auto[/N]  handle only shard I of N (see Shards)\n"
  "  --run-id ID           the run id of every record (default:\n"
  "                        $XTSTORE_RUN_ID, else a new one); 1-64 of\n"
  "                        A-Z a-z 0-9 . _ : -\n"
  "  -c, --checksum        compare CRC-32Cs where both listings have them,\n"
  "                        else MD5s where both have them\n"
  "  --dry-run             print the plan; copy nothing, write no log\n"
  "  --transfers N         objects in flight, 1-256 (default: 2 per CPU,\n"
  "                        at least 4, at most 16)\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json                a JSON array: one element per object (action,\n"
  "                        source, target, size, dry_run, status, error)\n"
  "                        and a summary element\n"
  "  -h, --help            show this help\n"
  "\n"
  "Output: one line per object copied ('new: SRC -> DST (N bytes)',\n"
  "'update: ...'; 'equal: ...' too with -v), failures on stderr, then a\n"
  "summary with the counts per status. Exit 8 when some objects failed.\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore migrate lake:raw/2024 archive:raw/2024 --log migrate.jsonl\n"
  "  xtstore migrate --dry-run lake:raw/ archive:raw/\n"
  "  xtstore migrate --shard 2/8 --run-id lake-2024 lake:raw/ archive:raw/ \\\n"
  "    --log archive:logs/lake-2024/2.jsonl\n",
  migrate_run,
};
