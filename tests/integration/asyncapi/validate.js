// validate.js -- the validators of tests/integration/test_schema.py.
//
//   node validate.js asyncapi DIR FILE
//	parse the AsyncAPI document FILE with @asyncapi/parser and print,
//	as one JSON line, the parser's version, whether it produced a
//	document, and every diagnostic (severity 0 is an error, 1 a
//	warning, 2 information).
//   node validate.js schema DIR SCHEMA INSTANCES
//	compile the JSON Schema SCHEMA (draft 2020-12, strict, formats
//	checked) with Ajv and print, as one JSON line, Ajv's version and,
//	for each value of the JSON array INSTANCES, whether it is valid and
//	why not.
//
// DIR holds node_modules with @asyncapi/parser, as script/bootstrap
// installs it from package.json beside this file (ajv comes with it).
'use strict';
const fs = require('fs');
const path = require('path');

const [mode, dir, ...files] = process.argv.slice(2);
const modules = path.join(path.resolve(dir), 'node_modules');

function load(name) {
  return require(path.join(modules, name));
}

function version(name) {
  return load(path.join(name, 'package.json')).version;
}

async function asyncapi(file) {
  const { Parser } = load('@asyncapi/parser');
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'));
  return {
    parser: version('@asyncapi/parser'),
    document: document !== undefined,
    diagnostics: diagnostics.map((d) => ({
      severity: d.severity, code: d.code, message: d.message, path: d.path,
    })),
  };
}

function schema(schemaFile, instancesFile) {
  const Ajv2020 = load('ajv/dist/2020').default;
  const addFormats = load('ajv-formats').default;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // warren's own annotations, so that strict mode knows them.
  ajv.addVocabulary(['x-warren-routing-key', 'x-warren-publisher',
    'x-warren-consumers', 'x-warren-replaces', 'x-warren-pattern']);
  const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
  const instances = JSON.parse(fs.readFileSync(instancesFile, 'utf8'));
  return {
    ajv: version('ajv'),
    results: instances.map((v) => ({
      valid: validate(v),
      errors: (validate.errors || []).map((e) => `${e.instancePath} ${e.message}`),
    })),
  };
}

(async () => {
  let out;
  if (mode === 'asyncapi' && files.length === 1) out = await asyncapi(files[0]);
  else if (mode === 'schema' && files.length === 2) out = schema(files[0], files[1]);
  else throw new Error('usage: node validate.js asyncapi DIR FILE | schema DIR SCHEMA INSTANCES');
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(2);
});
