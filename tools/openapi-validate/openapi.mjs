#!/usr/bin/env node
// railwatch's OpenAPI tooling (test only), pinned by package-lock.json:
//
//   node openapi.mjs validate SPEC.yaml
//       Validates SPEC against the OpenAPI 3.x JSON Schema (@seriousme/openapi-schema-validator,
//       which also resolves every $ref), then checks the house rules the schema cannot express:
//       every operation has a unique operationId, and every operation that takes the bearer token
//       documents 401.
//   node openapi.mjs operations SPEC.yaml
//       Prints a JSON array of every operation: {method, path, operationId, secured, statuses}.
//   node openapi.mjs check SPEC.yaml ANSWERS.json
//       ANSWERS is a JSON array of {method, path, status, contentType, body} (path: the pattern as in
//       SPEC, body: the raw text). Each answer's status must be documented for its operation, its
//       content type documented for that status, and a JSON body must validate against the
//       documented schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it).
//
// Exit status: 0 all good, 1 a finding (one line each on stderr), 2 a usage error.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const kMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function usage(message) {
  process.stderr.write(`openapi: ${message}\nusage: node openapi.mjs validate|operations SPEC | check SPEC ANSWERS.json\n`);
  process.exit(2);
}

function loadSpec(path) {
  return YAML.parse(readFileSync(path, 'utf8'));
}

/** Every operation of the spec, with whether the bearer token applies to it. */
function operations(spec) {
  const out = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of kMethods) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? spec.security ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? null,
        secured: security.some((requirement) => Object.keys(requirement).length > 0),
        statuses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return out;
}

/** A JSON pointer fragment for `parts` (RFC 6901 escaping). */
function pointer(parts) {
  return '#/' + parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

/** Follows a local "#/..." $ref in the spec; returns the object and its pointer parts. */
function follow(spec, node, parts) {
  while (node && typeof node.$ref === 'string') {
    if (!node.$ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${node.$ref}`);
    parts = node.$ref
      .slice(2)
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    node = parts.reduce((n, p) => (n == null ? n : n[p]), spec);
  }
  return { node, parts };
}

async function validate(path) {
  const spec = loadSpec(path);
  const result = await new Validator().validate(spec);
  const findings = [];
  if (!result.valid) {
    const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
    for (const e of errors) findings.push(typeof e === 'string' ? e : `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params ?? {})}`);
  }
  if (!String(spec.openapi ?? '').startsWith('3.1.')) findings.push(`openapi is ${spec.openapi}; this project writes 3.1.x`);
  const ids = new Map();
  for (const op of operations(spec)) {
    const name = `${op.method} ${op.path}`;
    if (!op.operationId) findings.push(`${name}: no operationId`);
    else if (ids.has(op.operationId)) findings.push(`${name}: operationId ${op.operationId} also used by ${ids.get(op.operationId)}`);
    else ids.set(op.operationId, name);
    if (op.secured && !op.statuses.includes('401')) findings.push(`${name}: takes the bearer token but does not document 401`);
  }
  if (findings.length > 0) {
    for (const f of findings) process.stderr.write(`openapi: ${path}: ${f}\n`);
    process.exit(1);
  }
  process.stdout.write(`openapi: ${path} is valid OpenAPI ${spec.openapi} (${ids.size} operations)\n`);
}

function check(specPath, answersPath) {
  const spec = loadSpec(specPath);
  const answers = JSON.parse(readFileSync(answersPath, 'utf8'));
  if (!Array.isArray(answers) || answers.length === 0) usage(`${answersPath} holds no answers`);
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(spec, 'spec');
  const failures = [];
  for (const a of answers) {
    const name = `${a.method} ${a.path} -> ${a.status}`;
    const opParts = ['paths', a.path, a.method.toLowerCase()];
    const op = opParts.reduce((n, p) => (n == null ? n : n[p]), spec);
    if (!op) {
      failures.push(`${name}: no such operation in the spec`);
      continue;
    }
    const declared = op.responses?.[String(a.status)] ? String(a.status) : op.responses?.default ? 'default' : null;
    if (!declared) {
      failures.push(`${name}: status not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
      continue;
    }
    const { node: response, parts } = follow(spec, op.responses[declared], [...opParts, 'responses', declared]);
    const mediaType = String(a.contentType ?? '').split(';')[0].trim().toLowerCase();
    const content = response?.content ?? {};
    if (Object.keys(content).length === 0) {
      if (a.body) failures.push(`${name}: a body was sent but the spec documents none`);
      continue;
    }
    if (!content[mediaType]) {
      failures.push(`${name}: content type "${a.contentType}" not documented (documented: ${Object.keys(content).join(', ')})`);
      continue;
    }
    if (mediaType !== 'application/json') continue;
    let body;
    try {
      body = JSON.parse(a.body);
    } catch (e) {
      failures.push(`${name}: the body is not JSON: ${e.message}`);
      continue;
    }
    const validateBody = ajv.getSchema('spec' + pointer([...parts, 'content', mediaType, 'schema'])) ??
      ajv.compile({ $ref: 'spec' + pointer([...parts, 'content', mediaType, 'schema']) });
    if (!validateBody(body)) {
      for (const e of validateBody.errors) failures.push(`${name}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
  if (failures.length > 0) {
    for (const f of failures) process.stderr.write(`openapi: ${f}\n`);
    process.exit(1);
  }
  process.stdout.write(`openapi: ${answers.length} answers match ${specPath}\n`);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'validate' && args.length === 1) await validate(args[0]);
else if (command === 'operations' && args.length === 1) process.stdout.write(JSON.stringify(operations(loadSpec(args[0])), null, 1) + '\n');
else if (command === 'check' && args.length === 2) check(args[0], args[1]);
else usage('unknown command or wrong arguments');
