// Replays the project's SQL on the current ClickHouse engine (chDB, an in-process ClickHouse 26.x):
// every migration of schemas/clickhouse, then every distinct query the local 18.16 server logged
// (system.query_log, exported by check.sh). 18.16 runs the test suite; this catches what the newer
// analyzer refuses (e.g. a joined subquery without an alias). Exit code 1 if anything fails.
const { Session } = require('chdb');
const fs = require('fs');
const path = require('path');

const [migrationsDir, queriesFile] = process.argv.slice(2);
const s = new Session(fs.mkdtempSync('/tmp/fne-chdb-'));
s.query('CREATE DATABASE IF NOT EXISTS fne');
let failed = 0;
const run = (label, sql, format) => {
  try {
    s.query('USE fne; ' + sql, format);
    return true;
  } catch (e) {
    failed++;
    console.log(`ÉCHEC ${label} : ${String(e).split('\n')[0].slice(0, 400)}\n    ${sql.replace(/\s+/g, ' ').slice(0, 300)}`);
    return false;
  }
};
// Migrations: statements end with ";" at the end of a line (no semicolon inside strings or comments).
let nm = 0;
for (const f of fs.readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort()) {
  const body = fs.readFileSync(path.join(migrationsDir, f), 'utf8').split('\n').filter((l) => !l.trim().startsWith('--')).join('\n');
  for (const stmt of body.split(/;\s*$/m).map((x) => x.trim()).filter(Boolean)) {
    nm++;
    run(`migration ${f}`, stmt);
  }
}
run('schema_migrations', 'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = ReplacingMergeTree ORDER BY version');
let nq = 0;
if (queriesFile) {
  for (const line of fs.readFileSync(queriesFile, 'utf8').split('\n').filter(Boolean)) {
    nq++;
    run('requête', JSON.parse(line).query, 'CSV');
  }
}
console.log(`ClickHouse ${s.query('SELECT version()', 'CSV').trim()} : ${nm} instructions de migration, ${nq} requêtes, ${failed} échec(s).`);
process.exit(failed ? 1 : 0);
