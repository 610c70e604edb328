// The flows of the npm `mlflow` client (a third-party Node.js client of
// MLflow's REST API) against a switchyard server: node flows.js URL.
// Exits non-zero, saying what differed, when an answer is not what the
// client's user would read from MLflow.
const assert = require('node:assert/strict')
const MLflow = require('mlflow')

const client = new MLflow({endpoint: process.argv[2]})
const {Experiments, Runs, Metrics, Artifacts} = client
console.log = () => {} // the client prints every body it posts

;(async () => {
  const {experiment_id} = await Experiments.create({name: 'npm-flows'})
  assert.match(experiment_id, /^\d+$/)
  await Experiments.update({experiment_id, new_name: 'npm-flows-renamed'})
  const {experiment} = await Experiments.get({experiment_id})
  assert.equal(experiment.name, 'npm-flows-renamed')
  assert.equal(experiment.lifecycle_stage, 'active')

  const start = Date.now()
  const {run} = await Runs.create({experiment_id, start_time: start, tags: [{key: 'team', value: 'risk'}]})
  const {run_id} = run.info
  assert.equal(run.info.status, 'RUNNING')
  await Runs.logParameter({run_id, key: 'C', value: '0.5'})
  for (const [step, auc] of [0.81, 0.86, 0.9].entries()) {
    await Runs.logMetric({run_id, key: 'auc', value: auc, timestamp: start + step, step})
  }
  await Runs.setTag({run_id, key: 'stage', value: 'tuning'})
  await Runs.deleteTag({run_id, key: 'team'})
  await Runs.logBatch({run_id, metrics: [{key: 'loss', value: 0.3, timestamp: start, step: 0}],
    params: [{key: 'penalty', value: 'l2'}], tags: [{key: 'owner', value: 'ana'}]})

  const got = (await Runs.get({run_id})).run
  const byKey = (list) => Object.fromEntries((list || []).map((e) => [e.key, e.value]))
  assert.deepEqual(byKey(got.data.params), {C: '0.5', penalty: 'l2'})
  assert.deepEqual(byKey(got.data.metrics), {auc: 0.9, loss: 0.3})
  const tags = byKey(got.data.tags)
  assert.equal(tags.stage, 'tuning')
  assert.equal(tags.owner, 'ana')
  assert.equal(tags.team, undefined)

  const history = await Metrics.getHistory({run_id, metric_key: 'auc'})
  assert.deepEqual(history.metrics.map((m) => [m.step, m.value]), [[0, 0.81], [1, 0.86], [2, 0.9]])

  const found = await Runs.search({experiment_ids: [experiment_id], filter: "metrics.auc > 0.85 and params.C = '0.5'"})
  assert.deepEqual(found.runs.map((r) => r.info.run_id), [run_id])
  const none = await Runs.search({experiment_ids: [experiment_id], filter: 'metrics.auc > 0.95'})
  assert.equal((none.runs || []).length, 0)

  const listing = await Artifacts.list({run_id})
  assert.equal(listing.root_uri, got.info.artifact_uri)
  assert.equal((listing.files || []).length, 0)

  await Runs.update({run_id, status: 'FINISHED', end_time: Date.now()})
  assert.equal((await Runs.get({run_id})).run.info.status, 'FINISHED')
  await Runs.delete({run_id})
  assert.equal((await Runs.get({run_id})).run.info.lifecycle_stage, 'deleted')
  await Runs.restore({run_id})
  assert.equal((await Runs.get({run_id})).run.info.lifecycle_stage, 'active')

  await assert.rejects(Runs.get({run_id: '0123456789abcdef0123456789abcdef'}), /RESOURCE_DOES_NOT_EXIST/)
  await Experiments.delete({experiment_id})
  assert.equal((await Experiments.get({experiment_id})).experiment.lifecycle_stage, 'deleted')
  await Experiments.restore({experiment_id})
  process.stdout.write('npm mlflow client flows: ok\n')
})().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n')
  process.exit(1)
})
