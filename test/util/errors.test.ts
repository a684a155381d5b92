import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { UserError, formatDetail } from '../../src/util/errors.js';
import { parseConfig } from '../../src/util/config.js';

test('formatDetail puts where first and one labelled line per part', () => {
  assert.equal(
    formatDetail({ what: 'bad strength', where: 'prefs.jsonl:3 field preference_strength', expected: 'an integer in [-3, 3]', received: '7', fix: 'correct line 3' }),
    'prefs.jsonl:3 field preference_strength: bad strength\n  expected: an integer in [-3, 3]\n  received: 7\n  fix: correct line 3',
  );
});

test('parseConfig rejects unknown keys and names the bad field with the received value', () => {
  const schema = z.strictObject({ steps: z.coerce.number().int().min(1), lr: z.coerce.number() });
  assert.deepEqual(parseConfig(schema, { steps: '3', lr: '0.5' }, 'command line'), { steps: 3, lr: 0.5 });
  assert.throws(() => parseConfig(schema, { steps: 3, lr: 1, stepz: 4 }, 'cfg.json'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^cfg\.json: invalid configuration/);
    assert.match(e.message, /unknown key\(s\) "stepz"/);
    return true;
  });
  assert.throws(() => parseConfig(schema, { steps: 0, lr: 1 }, 'command line'), /steps: .*received 0/);
});
