// Evaluates rubric expressions with the reference json-formula engine
// (@adobe/json-formula from npm), the peer `tests/rubric.rs` holds vouch's
// engine equal to. The rubric's named expressions become functions with the
// official evaluator's conventions (c2pa_conformance_rubric_evaluator.py):
// arguments in the global `$args`, arity inferred from call sites and from
// the `$args[N]` a body reads.
//
// stdin: {"module": PATH, "variables": {...}, "expressions": {...},
//         "statements": [TEXT...], "documents": [JSON...]}
// stdout: one array per document, one {"ok": VALUE} or {"error": TEXT} per statement.
import { readFileSync } from 'node:fs';

const job = JSON.parse(readFileSync(0, 'utf8'));
const { default: JsonFormula, dataTypes } = await import(job.module);

function inferArities(expressions) {
  const arities = Object.fromEntries(Object.keys(expressions).map(n => [n, 0]));
  const escape = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const name of Object.keys(expressions)) {
    const pattern = new RegExp(`\\b${escape(name)}\\s*\\(`, 'g');
    for (const body of Object.values(expressions)) {
      const text = String(body ?? '');
      for (const m of text.matchAll(pattern)) {
        const rest = text.slice(m.index + m[0].length);
        let count = 0;
        if (!rest.startsWith(')')) {
          let depth = 1;
          count = 1;
          for (const c of rest) {
            if (c === '(') depth += 1;
            else if (c === ')') { depth -= 1; if (depth === 0) break; }
            else if (c === ',' && depth === 1) count += 1;
          }
        }
        arities[name] = Math.max(arities[name], count);
      }
    }
  }
  for (const [name, body] of Object.entries(expressions)) {
    const text = String(body ?? '');
    const indexes = [...text.matchAll(/\$args\[(\d+)\]/g)].map(m => Number(m[1]));
    if (indexes.length) arities[name] = Math.max(arities[name], Math.max(...indexes) + 1);
    else if (/\$args\b/.test(text)) arities[name] = Math.max(arities[name], 1);
  }
  return arities;
}

const variables = { ...job.variables };
const expressions = job.expressions;
const arities = inferArities(expressions);
const dollar = new Set(Object.keys(variables));
for (const body of Object.values(expressions)) {
  for (const m of String(body ?? '').matchAll(/\$[a-zA-Z0-9_]+/g)) dollar.add(m[0]);
}
const allowed = [...dollar, ...Object.keys(expressions)];
const compiler = new JsonFormula();
const asts = {};
for (const [name, body] of Object.entries(expressions)) {
  try { asts[name] = compiler.compile(String(body ?? '').trim(), allowed); } catch (e) { asts[name] = null; }
}
const customFunctions = {};
for (const name of Object.keys(expressions)) {
  const arity = arities[name];
  customFunctions[name] = {
    _signature: Array.from({ length: arity }, () => ({ types: [dataTypes.TYPE_ANY] })),
    _func: (args, data, interpreter) => {
      if (asts[name] === null) throw new Error(`Expression '${name}' failed to compile`);
      if (arity === 0) return interpreter.search(asts[name], data);
      const saved = interpreter.globals.$args;
      interpreter.globals.$args = [...args];
      try {
        return interpreter.search(asts[name], data);
      } finally {
        if (saved === undefined) delete interpreter.globals.$args; else interpreter.globals.$args = saved;
      }
    },
  };
}
const engine = new JsonFormula(customFunctions);
// Each statement gets its own copy of the document: the reference pads a
// list operand of `+`, `-`, `&`, … with nulls in place, which would leak
// into the statements after it.
const out = job.documents.map(doc => job.statements.map(text => {
  try {
    const value = engine.search(text.trim(), structuredClone(doc), { ...variables });
    return { ok: value === undefined ? null : value };
  } catch (e) {
    return { error: String(e.message || e) };
  }
}));
process.stdout.write(JSON.stringify(out));
