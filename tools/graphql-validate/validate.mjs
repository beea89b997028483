#!/usr/bin/env node
// Validates GraphQL documents against a schema introspection (Railway's schema.json) with
// graphql-js, the reference implementation.
//
// Usage:
//   node validate.mjs --schema SCHEMA.json [FILE...]
// Each FILE is either a .graphql document (expected valid) or a .json array of
//   {"name": "...", "query": "...", "valid": true|false}
// ("valid" defaults to true: false means the document must be rejected). With no FILE, the JSON
// array is read from standard input. Prints one line per document and exits 1 when any document
// does not meet its expectation, 2 on a usage error.
import { readFileSync } from 'node:fs';
import { buildClientSchema, parse, validate } from 'graphql';

function usage(message) {
  process.stderr.write(`graphql-validate: ${message}\nusage: node validate.mjs --schema SCHEMA.json [FILE...]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let schemaPath = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--schema') schemaPath = args[++i];
  else files.push(args[i]);
}
if (!schemaPath) usage('--schema is required');

const introspection = JSON.parse(readFileSync(schemaPath, 'utf8'));
const schema = buildClientSchema(introspection.data ?? introspection);

const documents = [];
if (files.length === 0) {
  documents.push(...JSON.parse(readFileSync(0, 'utf8')));
} else {
  for (const file of files) {
    if (file.endsWith('.json')) documents.push(...JSON.parse(readFileSync(file, 'utf8')));
    else documents.push({ name: file, query: readFileSync(file, 'utf8'), valid: true });
  }
}
if (documents.length === 0) usage('no documents to validate');

let failures = 0;
for (const doc of documents) {
  const expectValid = doc.valid !== false;
  let errors;
  try {
    errors = validate(schema, parse(doc.query));
  } catch (e) {
    errors = [e];
  }
  const valid = errors.length === 0;
  const detail = valid ? '' : `: ${errors.map((e) => e.message).join('; ')}`;
  if (valid === expectValid) {
    console.log(`ok   ${doc.name} (${valid ? 'valid' : 'rejected as expected'}${detail})`);
  } else {
    failures++;
    console.log(`FAIL ${doc.name}: expected ${expectValid ? 'valid' : 'invalid'}, got ${valid ? 'valid' : 'invalid'}${detail}`);
  }
}
console.log(`${documents.length - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
