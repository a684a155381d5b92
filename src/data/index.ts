// steer's data layer: formats, aggregation, agreement, pairs and batching, the toy world.
//
//   import { generateToyWorld, scorePromptAnswer, readPairs, pairBatches } from './data/index.js';
//
//   const world = generateToyWorld({ seed: 0 });            // in memory; writeToyWorld(world, dir) for files
//   world.sft, world.rlPrompts, world.evalPrompts, world.groundTruth
//   scorePromptAnswer('How many r in strawberry?', '3')     // { correct: true, extracted: '3', … }
//   const pairs = await readPairs('toy/helpsteer2/preference.jsonl');   // aggregated + filtered
//   for (const batch of pairBatches(pairs.length, { batchSize: 8, rng })) { … pairBatchLayout(batch.map(i => pairs[i])) … }
export * from './read.js';
export * from './schema.js';
export * from './aggregate.js';
export * from './agreement.js';
export * from './helpsteer2.js';
export * from './pairs.js';
export * from './stats.js';
export * from './prepare.js';
export * from './load.js';
export * from './toy/words.js';
export * from './toy/tasks.js';
export * from './toy/styles.js';
export * from './toy/world.js';
export { groundTruthRowSchema } from './toy/schema.js';
